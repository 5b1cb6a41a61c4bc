import { z } from 'zod';
import { durationToMs } from '../dag/duration.js';
import type { Duration } from '../dag/types.js';
import { TASK_STATES } from '../db/schema.js';
import { RUN_STATES } from '../db/schema.js';
import { isValidTimezone, parseDateInZone } from '../schedule/schedule.js';

// Arguments of the built-in sensors: the types DAG files use and the zod schemas that check them
// where the DAG is defined and again on the worker. Kept free of I/O so parsing DAG files stays fast.

/** A string holding a template (`{{ … }}`), checked only once rendered. */
const isTemplate = (value: string): boolean => value.includes('{{');
const duration = z.union([z.number(), z.string()]).refine((v) => typeof durationToMs(v) === 'number', "expected a duration such as '30s' or '2h'");
const timezone = z.string().refine(isValidTimezone, 'expected an IANA time zone such as Europe/Paris');

/** Arguments of `timeSensor`. */
export interface TimeSensorArgs {
  /** Time of day to wait for, `HH:MM` or `HH:MM:SS` (24-hour), on the day the run's data interval ends. */
  time: string;
  /**
   * Time zone `time` and that day are read in.
   * @defaultValue `'UTC'`
   */
  timezone?: string;
}

export const timeSensorArgsSchema = z
  .object({
    time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, "expected a time of day such as '06:30' or '06:30:15'"),
    timezone: timezone.optional(),
  })
  .strict();

/** Arguments of `dateTimeSensor`. */
export interface DateTimeSensorArgs {
  /** The moment to wait for: ISO 8601 (without an offset, read in `timezone`), or a template rendering to one. */
  target: string;
  /**
   * Time zone of a `target` without an offset.
   * @defaultValue `'UTC'`
   */
  timezone?: string;
}

export const dateTimeSensorArgsSchema = z
  .object({
    target: z
      .string()
      .min(1)
      .refine((v) => isTemplate(v) || parseDateInZone(v, 'UTC') !== null, 'expected an ISO 8601 date and time such as 2024-06-01T06:00:00Z'),
    timezone: timezone.optional(),
  })
  .strict();

/** Arguments of `timeDeltaSensor`. */
export interface TimeDeltaSensorArgs {
  /** How long after the end of the run's data interval to wait until (Airflow's `TimeDeltaSensor`). */
  delta: Duration;
}

export const timeDeltaSensorArgsSchema = z.object({ delta: duration }).strict();

/** Arguments of `externalTaskSensor`. */
export interface ExternalTaskSensorArgs {
  /** The DAG to watch. */
  externalDagId: string;
  /** One task to watch; leave out the task options to watch the whole run. */
  externalTaskId?: string;
  /** Several tasks to watch (all must reach an allowed state). */
  externalTaskIds?: string[];
  /** Every task of a task group (ids starting with `<group>.`). */
  externalTaskGroupId?: string;
  /**
   * States that count as done: task-instance states when watching tasks (each map index counts),
   * run states when watching the run.
   * @defaultValue `['success']`
   */
  allowedStates?: string[];
  /**
   * States that fail the sensor at once (it is retried like any failed task, or skipped with `softFail`).
   * @defaultValue `[]`
   */
  failedStates?: string[];
  /**
   * States that skip the sensor at once.
   * @defaultValue `[]`
   */
  skippedStates?: string[];
  /**
   * The watched run's logical date is this run's minus this (Airflow's `execution_delta`): `'1h'`
   * watches the run of one hour earlier.
   * @defaultValue 0
   */
  executionDelta?: Duration;
  /**
   * Fail at the first poke when the DAG or the tasks do not exist, instead of waiting for them.
   * @defaultValue false
   */
  checkExistence?: boolean;
}

const anyState = z.enum([...TASK_STATES, ...RUN_STATES.filter((s) => !(TASK_STATES as readonly string[]).includes(s))] as [string, ...string[]]);
const id = z.string().min(1);

export const externalTaskSensorArgsSchema = z
  .object({
    externalDagId: id,
    externalTaskId: id.optional(),
    externalTaskIds: z.array(id).min(1).optional(),
    externalTaskGroupId: id.optional(),
    allowedStates: z.array(anyState).min(1).optional(),
    failedStates: z.array(anyState).optional(),
    skippedStates: z.array(anyState).optional(),
    executionDelta: duration.optional(),
    checkExistence: z.boolean().optional(),
  })
  .strict()
  .refine((a) => [a.externalTaskId, a.externalTaskIds, a.externalTaskGroupId].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of externalTaskId, externalTaskIds, externalTaskGroupId',
    path: ['externalTaskId'],
  });

/** Arguments of `fileSensor`. */
export interface FileSensorArgs {
  /**
   * A path or a glob (`*`, `?`, `[…]`, `{a,b}`, `**` for any depth) on the worker; relative paths are
   * read from the project directory. A matching file, or a directory holding a file, satisfies it.
   */
  path: string;
}

export const fileSensorArgsSchema = z.object({ path: z.string().min(1) }).strict();

/** Arguments of `objectSensor`. */
export interface ObjectSensorArgs {
  /** Bucket of the engine's object store. */
  bucket: string;
  /** An object's key: satisfied once it exists. */
  key?: string;
  /** A key prefix: satisfied once some object's key starts with it. */
  prefix?: string;
}

export const objectSensorArgsSchema = z
  .object({ bucket: z.string().min(1), key: z.string().min(1).optional(), prefix: z.string().min(1).optional() })
  .strict()
  .refine((a) => (a.key === undefined) !== (a.prefix === undefined), { message: 'give exactly one of key and prefix', path: ['key'] });

/** How an HTTP sensor judges a response body beyond its status. */
export interface HttpResponseCheck {
  /** The body contains this text. */
  contains?: string;
  /** The body matches this regular expression (JavaScript syntax). */
  matches?: string;
  /** A dotted path into the JSON body (`data.status`, `items.0.id`); without `equals`, its value must be truthy. */
  jsonPath?: string;
  /** The value at `jsonPath` equals this (compared as JSON). */
  equals?: unknown;
}

/** Arguments of `httpSensor`. */
export interface HttpSensorArgs {
  /** Full URL; or give `connection` (and `endpoint`). */
  url?: string;
  /**
   * An engine connection (its `schema` is the protocol, default http; `host`, `port`; `login` and
   * `password` for basic auth; `extra.headers`): the URL is built from it and `endpoint`.
   */
  connection?: string;
  /** Path (and query) appended to the connection's base URL. */
  endpoint?: string;
  /** @defaultValue `'GET'` */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** Request body: a string as is, anything else as JSON. */
  body?: unknown;
  /**
   * Statuses that satisfy the sensor (when the response check passes too).
   * @defaultValue 200–299
   */
  expectedStatus?: number[];
  /**
   * Statuses that mean "not yet" (poke again); any other status fails the poke, and the task is
   * retried as usual (Airflow's `response_error_codes_allowlist`).
   * @defaultValue `[404]`
   */
  pokeOnStatus?: number[];
  responseCheck?: HttpResponseCheck;
  /**
   * Longest one request may take; a slower one fails the poke.
   * @defaultValue `'30s'`
   */
  requestTimeout?: Duration;
}

const status = z.number().int().min(100).max(599);

export const httpSensorArgsSchema = z
  .object({
    url: z
      .string()
      .refine((v) => isTemplate(v) || URL.canParse(v), 'expected an absolute URL such as http://host:8080/path')
      .optional(),
    connection: id.optional(),
    endpoint: z.string().optional(),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    expectedStatus: z.array(status).min(1).optional(),
    pokeOnStatus: z.array(status).optional(),
    responseCheck: z
      .object({
        contains: z.string().optional(),
        matches: z
          .string()
          .refine((v) => {
            try {
              new RegExp(v);
              return true;
            } catch {
              return false;
            }
          }, 'expected a valid regular expression')
          .optional(),
        jsonPath: z.string().min(1).optional(),
        equals: z.unknown().optional(),
      })
      .strict()
      .refine((c) => c.equals === undefined || c.jsonPath !== undefined, { message: 'equals needs a jsonPath', path: ['equals'] })
      .optional(),
    requestTimeout: duration.optional(),
  })
  .strict()
  .refine((a) => (a.url === undefined) !== (a.connection === undefined), { message: 'give exactly one of url and connection', path: ['url'] })
  .refine((a) => a.endpoint === undefined || a.connection !== undefined, { message: 'endpoint goes with a connection', path: ['endpoint'] });
