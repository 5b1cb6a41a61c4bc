import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/service/connections.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { LocalDirectoryObjectStore } from '../src/storage/local-object-store.js';
import { eventually, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

let setup: TestSetup;
let server: Server;
let dir: string;
let folder: ReturnType<typeof tempDagFolder>;
const requests: { path: string; authorization: string | undefined }[] = [];
const actor = { name: 'test', origin: 'test' };

/** A real HTTP server: an export that is missing, then pending, then done; a broken endpoint; one behind basic auth. */
function handle(request: IncomingMessage): { status: number; body: string; type?: string } {
  const path = request.url ?? '/';
  requests.push({ path, authorization: request.headers.authorization });
  const hits = requests.filter((r) => r.path === path).length;
  if (path === '/export') {
    if (hits <= 2) return { status: 404, body: 'not yet' };
    return { status: 200, body: JSON.stringify({ status: hits <= 3 ? 'pending' : 'done', rows: 42 }), type: 'application/json' };
  }
  if (path === '/broken') return { status: 500, body: 'database is down' };
  if (path === '/private') {
    const expected = `Basic ${Buffer.from('reader:s3cret').toString('base64')}`;
    return request.headers.authorization === expected ? { status: 200, body: 'ok' } : { status: 401, body: 'who are you' };
  }
  return { status: 404, body: 'no such path' };
}

function dagSource(port: number, root: string): string {
  return `
import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '@tributary/engine';
import { dateTimeSensor, externalTaskSensor, fileSensor, httpSensor, objectSensor, timeDeltaSensor, timeSensor } from '@tributary/engine/operators';

const fast = { mode: 'reschedule', pokeInterval: 100, timeout: '30s' } as const;

export const http = dag({ id: 'sense_http' });
http.task('ready', httpSensor({ url: 'http://127.0.0.1:${port}/export', responseCheck: { jsonPath: 'status', equals: 'done' } }), { sensor: fast });
http.task('via_connection', httpSensor({ connection: 'export_api', endpoint: '/private' }), { sensor: fast });

export const httpBroken = dag({ id: 'sense_http_broken' });
httpBroken.task('broken', httpSensor({ url: 'http://127.0.0.1:${port}/broken' }), { retries: 1, retryDelay: 0, sensor: fast });

export const files = dag({ id: 'sense_files' });
files.task('csv', fileSensor({ path: '${root}/incoming/*.csv' }), { sensor: fast });
files.task('dir', fileSensor({ path: '${root}/batch' }), { sensor: fast });

export const objects = dag({ id: 'sense_objects' });
objects.task('key', objectSensor({ bucket: 'exports', key: 'daily/2024-01-01.parquet' }), { sensor: fast });
objects.task('prefix', objectSensor({ bucket: 'exports', prefix: 'weekly/' }), { sensor: fast });

export const producer = dag({ id: 'sense_producer' });
producer.task('load', async () => {
  await sleep(300);
  return 'loaded';
});
export const producerFails = dag({ id: 'sense_producer_fails' });
producerFails.task('load', () => {
  throw new Error('bad input');
});

export const watcher = dag({ id: 'sense_external' });
watcher.task('wait_task', externalTaskSensor({ externalDagId: 'sense_producer', externalTaskId: 'load', executionDelta: '1h' }), { sensor: fast });
watcher.task('wait_run', externalTaskSensor({ externalDagId: 'sense_producer', executionDelta: '1h' }), { sensor: fast });

export const watcherFails = dag({ id: 'sense_external_fails' });
watcherFails.task('fails', externalTaskSensor({ externalDagId: 'sense_producer_fails', externalTaskId: 'load', failedStates: ['failed'] }), { sensor: fast });
watcherFails.task('soft', externalTaskSensor({ externalDagId: 'sense_producer_fails', externalTaskId: 'load', failedStates: ['failed'] }), {
  sensor: { ...fast, softFail: true },
});
watcherFails.task('missing', externalTaskSensor({ externalDagId: 'no_such_dag', checkExistence: true }), { sensor: fast });

export const times = dag({ id: 'sense_times' });
times.task('past', dateTimeSensor({ target: '2020-01-01T00:00:00Z' }), { sensor: fast });
times.task('delta', timeDeltaSensor({ delta: '1s' }), { sensor: fast });
times.task('midnight', timeSensor({ time: '00:00' }), { sensor: fast });
`;
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = handle(request);
    response.writeHead(answer.status, { 'content-type': answer.type ?? 'text/plain' });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'tributary-builtin-sensors-'));
  folder = tempDagFolder({ 'sensing.ts': dagSource((server.address() as AddressInfo).port, dir) });
  setup = await setupEngine({ dagsFolders: [folder.dir], objectStore: { root: join(dir, 'objects') } });
  const parsed = await setup.engine.parseDags();
  expect(parsed.results.flatMap((r) => (r.error ? [r.error.message] : []))).toEqual([]);
  setup.engine.startScheduler();
  await setup.engine.startWorker({ concurrency: 8 });
});
afterAll(async () => {
  await setup?.close();
  folder?.remove();
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => server?.close(resolve));
});

async function instance(runPk: number, taskId: string) {
  return setup.engine.db.selectFrom('tributary.task_instance').selectAll().where('run_pk', '=', runPk).where('task_id', '=', taskId).executeTakeFirstOrThrow();
}
async function result(runPk: number, taskId: string): Promise<unknown> {
  const row = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', runPk).where('task_id', '=', taskId).where('key', '=', 'return_value').executeTakeFirst();
  return row?.value;
}
async function pokesBefore(runPk: number, taskId: string): Promise<number> {
  const ti = await instance(runPk, taskId);
  const rows = await setup.engine.db.selectFrom('tributary.task_reschedule').select('id').where('ti_id', '=', ti.id).execute();
  return rows.length;
}
async function firstError(runPk: number, taskId: string) {
  const ti = await instance(runPk, taskId);
  return (await setup.engine.db.selectFrom('tributary.task_try').select('error').where('ti_id', '=', ti.id).orderBy('try_number').execute()).map((t) => t.error);
}

describe('httpSensor against a real HTTP server', () => {
  it('pokes again on 404 and until the JSON check passes; authenticates through a connection', async () => {
    await createConnection(setup.engine.db, 'export_api', { connType: 'http', host: '127.0.0.1', port: (server.address() as AddressInfo).port, login: 'reader', password: 's3cret' }, actor);
    const run = await triggerDag(setup.engine.context, 'sense_http');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    expect(await result(run.id, 'ready')).toEqual({ status: 200, json: { status: 'done', rows: 42 } });
    // Two 404s and one 'pending' were pokes that came back not done.
    expect(await pokesBefore(run.id, 'ready')).toBe(3);
    expect(requests.filter((r) => r.path === '/export')).toHaveLength(4);
    expect(await result(run.id, 'via_connection')).toEqual({ status: 200 });
    expect(requests.find((r) => r.path === '/private')!.authorization).toBe(`Basic ${Buffer.from('reader:s3cret').toString('base64')}`);
  });

  it('fails a poke on an unexpected status, with normal retries', async () => {
    const run = await triggerDag(setup.engine.context, 'sense_http_broken');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('failed');
    expect(await instance(run.id, 'broken')).toMatchObject({ state: 'failed', try_number: 2 });
    const errors = await firstError(run.id, 'broken');
    expect(errors.map((e) => e?.name)).toEqual(['HttpSensorError', 'HttpSensorError']);
    expect(errors[0]!.message).toContain('answered 500 Internal Server Error: database is down');
  });
});

describe('fileSensor and objectSensor against real files', () => {
  it('waits for a glob to match a file and for a directory to hold one', async () => {
    mkdirSync(join(dir, 'incoming'), { recursive: true });
    writeFileSync(join(dir, 'incoming', 'readme.txt'), 'not a csv');
    mkdirSync(join(dir, 'batch', 'part'), { recursive: true });
    const run = await triggerDag(setup.engine.context, 'sense_files');
    await eventually(async () => (await pokesBefore(run.id, 'csv')) >= 1 && (await pokesBefore(run.id, 'dir')) >= 1, 15_000, 'both sensors to wait');
    writeFileSync(join(dir, 'incoming', 'listings.csv'), 'id,price\n1,100\n');
    writeFileSync(join(dir, 'batch', 'part', 'part-0000'), 'x');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    expect(await result(run.id, 'csv')).toEqual({ files: [join(dir, 'incoming', 'listings.csv')] });
    expect(await result(run.id, 'dir')).toEqual({ files: [join(dir, 'batch')] });
  });

  it("waits for an object key and a prefix in the engine's object store", async () => {
    const run = await triggerDag(setup.engine.context, 'sense_objects');
    await eventually(async () => (await pokesBefore(run.id, 'key')) >= 1 && (await pokesBefore(run.id, 'prefix')) >= 1, 15_000, 'both sensors to wait');
    const store = new LocalDirectoryObjectStore(join(dir, 'objects'));
    await store.put('exports', 'daily/2024-01-01.parquet', 'PAR1');
    await store.put('exports', 'weekly/2024-w01.csv', 'a,b\n');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    expect(await result(run.id, 'key')).toMatchObject({ bucket: 'exports', objects: [{ key: 'daily/2024-01-01.parquet', size: 4 }] });
    expect(await result(run.id, 'prefix')).toMatchObject({ objects: [{ key: 'weekly/2024-w01.csv', size: 4 }] });
  });
});

describe("externalTaskSensor against another DAG's real run", () => {
  it("waits for the other DAG's task and run with the logical date an executionDelta earlier", async () => {
    const at = new Date('2024-03-01T06:00:00Z');
    const run = await triggerDag(setup.engine.context, 'sense_external', { logicalDate: at });
    await eventually(async () => (await pokesBefore(run.id, 'wait_task')) >= 1, 15_000, 'the sensor to wait');
    // A run of the same DAG at another logical date does not count.
    const other = await triggerDag(setup.engine.context, 'sense_producer', { logicalDate: new Date(at.getTime() - 2 * 3_600_000) });
    expect(await waitForRun(setup.engine.db, other.id, { timeoutMs: 30_000 })).toBe('success');
    expect((await instance(run.id, 'wait_task')).state).not.toBe('success');
    const produced = await triggerDag(setup.engine.context, 'sense_producer', { logicalDate: new Date(at.getTime() - 3_600_000) });
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    const expected = { dagId: 'sense_producer', runId: produced.run_id, logicalDate: '2024-03-01T05:00:00.000Z' };
    expect(await result(run.id, 'wait_task')).toEqual(expected);
    expect(await result(run.id, 'wait_run')).toEqual(expected);
    // It succeeded only after the task it watched did.
    const load = await instance(produced.id, 'load');
    expect((await instance(run.id, 'wait_task')).end_date!.getTime()).toBeGreaterThanOrEqual(load.end_date!.getTime());
  });

  it('fails on a failed state, is skipped with softFail, and fails at once with checkExistence for a missing DAG', async () => {
    const at = new Date('2024-04-01T00:00:00Z');
    const failing = await triggerDag(setup.engine.context, 'sense_producer_fails', { logicalDate: at });
    expect(await waitForRun(setup.engine.db, failing.id, { timeoutMs: 30_000 })).toBe('failed');
    const run = await triggerDag(setup.engine.context, 'sense_external_fails', { logicalDate: at });
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('failed');
    expect((await instance(run.id, 'fails')).state).toBe('failed');
    expect((await firstError(run.id, 'fails'))[0]).toMatchObject({ name: 'ExternalTaskFailedError', code: 'EXTERNAL_TASK_FAILED' });
    expect((await instance(run.id, 'soft')).state).toBe('skipped');
    expect((await firstError(run.id, 'missing'))[0]).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("DAG 'no_such_dag' not found") });
  });
});

describe('time sensors', () => {
  it('pass at once for a moment gone by and wait for one to come', async () => {
    const run = await triggerDag(setup.engine.context, 'sense_times');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    expect(await pokesBefore(run.id, 'past')).toBe(0);
    expect(await pokesBefore(run.id, 'midnight')).toBe(0);
    expect(await pokesBefore(run.id, 'delta')).toBeGreaterThanOrEqual(1);
    const delta = await instance(run.id, 'delta');
    expect(delta.end_date!.getTime()).toBeGreaterThanOrEqual(run.data_interval_end.getTime() + 1_000);
  });
});
