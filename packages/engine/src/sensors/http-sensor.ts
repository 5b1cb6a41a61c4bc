import type { Kysely } from 'kysely';
import { durationToMs } from '../dag/duration.js';
import type { PokeResult } from '../dag/sensor-options.js';
import type { TaskContext } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { TributaryError } from '../errors.js';
import { getConnection } from '../service/connections.js';
import type { HttpResponseCheck, HttpSensorArgs } from './sensor-args.js';

/** The HTTP sensor got a status that is neither expected nor "poke again": the poke fails (and is retried). */
export class HttpSensorError extends TributaryError {
  readonly status: number;

  constructor(message: string, status: number, location: { dagId: string; taskId: string }) {
    super('HTTP_SENSOR_STATUS', message, { location });
    this.status = status;
  }
}

/** Largest JSON body kept as the sensor's result. */
const MAX_RESULT_BYTES = 256 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

type Context = Pick<TaskContext, 'dagId' | 'taskId' | 'log' | 'signal'>;

interface Request {
  url: string;
  headers: Record<string, string>;
}

/** The URL and headers of a request through an engine connection (`schema` is the protocol). */
async function viaConnection(args: HttpSensorArgs, db: Kysely<Database>): Promise<Request> {
  const connection = await getConnection(db, args.connection!, { reveal: true });
  if (!connection.host) throw new TributaryError('HTTP_SENSOR_CONNECTION', `connection '${args.connection}' has no host`, { location: { field: 'connection' } });
  const base = /^https?:\/\//.test(connection.host)
    ? connection.host
    : `${connection.schema || 'http'}://${connection.host}${connection.port ? `:${connection.port}` : ''}`;
  const endpoint = args.endpoint ?? '';
  const url = `${base.replace(/\/+$/, '')}${endpoint && !endpoint.startsWith('/') ? '/' : ''}${endpoint}`;
  const headers: Record<string, string> = {};
  const extraHeaders = connection.extra.headers;
  if (extraHeaders && typeof extraHeaders === 'object') {
    for (const [name, value] of Object.entries(extraHeaders as Record<string, unknown>)) headers[name] = String(value);
  }
  if (connection.login !== null) {
    headers.authorization = `Basic ${Buffer.from(`${connection.login}:${connection.password ?? ''}`).toString('base64')}`;
  }
  return { url, headers };
}

/** The value at a dotted path (`data.items.0.id`) of a JSON value. */
export function valueAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Whether a response body passes the sensor's check, and why not. @internal */
export function checkBody(check: HttpResponseCheck, text: string): { ok: boolean; why: string } {
  if (check.contains !== undefined && !text.includes(check.contains)) return { ok: false, why: `the body does not contain ${JSON.stringify(check.contains)}` };
  if (check.matches !== undefined && !new RegExp(check.matches).test(text)) return { ok: false, why: `the body does not match /${check.matches}/` };
  if (check.jsonPath !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, why: 'the body is not JSON' };
    }
    const found = valueAtPath(json, check.jsonPath);
    if (check.equals !== undefined) {
      if (JSON.stringify(found) !== JSON.stringify(check.equals)) return { ok: false, why: `${check.jsonPath} is ${JSON.stringify(found)}, not ${JSON.stringify(check.equals)}` };
    } else if (!found) {
      return { ok: false, why: `${check.jsonPath} is ${JSON.stringify(found)}` };
    }
  }
  return { ok: true, why: '' };
}

/**
 * `httpSensor`: request the URL; done when the status is expected and the response check (if any)
 * passes (Airflow's `HttpSensor` with a `response_check`). A status in `pokeOnStatus` (404 by default)
 * means "not yet"; any other status, or a connection error, fails the poke so the try is retried as
 * usual. Its result is the status and, when the body is JSON (up to 256 KiB), the parsed body.
 */
export async function pokeHttp(args: HttpSensorArgs, context: Context, db: Kysely<Database>): Promise<PokeResult<{ status: number; json?: unknown }>> {
  const request: Request = args.url !== undefined ? { url: args.url, headers: {} } : await viaConnection(args, db);
  const method = args.method ?? 'GET';
  const headers = { ...request.headers, ...args.headers };
  let body: string | undefined;
  if (args.body !== undefined) {
    body = typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
    if (typeof args.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const timeoutMs = args.requestTimeout === undefined ? DEFAULT_REQUEST_TIMEOUT_MS : (durationToMs(args.requestTimeout) as number);
  const response = await fetch(request.url, { method, headers, body, signal: AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]) });
  const text = method === 'HEAD' ? '' : await response.text();
  const expected = args.expectedStatus ?? null;
  const isExpected = expected ? expected.includes(response.status) : response.status >= 200 && response.status < 300;
  const where = `${method} ${request.url}`;
  if (!isExpected) {
    if ((args.pokeOnStatus ?? [404]).includes(response.status)) {
      context.log.info(`${where}: ${response.status}; not yet`);
      return { done: false };
    }
    throw new HttpSensorError(
      `DAG '${context.dagId}': sensor '${context.taskId}': ${where} answered ${response.status} ${response.statusText}: ${text.slice(0, 500)}`,
      response.status,
      { dagId: context.dagId, taskId: context.taskId },
    );
  }
  if (args.responseCheck) {
    const verdict = checkBody(args.responseCheck, text);
    if (!verdict.ok) {
      context.log.info(`${where}: ${response.status}, but ${verdict.why}; not yet`);
      return { done: false };
    }
  }
  context.log.info(`${where}: ${response.status}; condition met`);
  let json: unknown;
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES && /json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { done: true, value: json === undefined ? { status: response.status } : { status: response.status, json } };
}
