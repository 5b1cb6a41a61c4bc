/**
 * Built-in operators for DAG files: `command` runs a program on the worker, `kubernetesPod` runs a
 * container in its own Kubernetes pod, and the sensors wait for a time, another DAG, a file, an
 * object or an HTTP condition. Each returns a task spec for `Dag.task(id, spec, options)`.
 * @packageDocumentation
 */
import type { z } from 'zod';
import type { OperatorSpec } from '../dag/types.js';
import { TributaryError } from '../errors.js';
import { validateCommandArgs, type CommandArgs } from '../executor/command-options.js';
import { firstProblem, parseKubernetesPodArgs, type KubernetesPodArgs } from '../executor/kubernetes-options.js';
import {
  dateTimeSensorArgsSchema,
  externalTaskSensorArgsSchema,
  fileSensorArgsSchema,
  httpSensorArgsSchema,
  objectSensorArgsSchema,
  timeDeltaSensorArgsSchema,
  timeSensorArgsSchema,
  type DateTimeSensorArgs,
  type ExternalTaskSensorArgs,
  type FileSensorArgs,
  type HttpSensorArgs,
  type ObjectSensorArgs,
  type TimeDeltaSensorArgs,
  type TimeSensorArgs,
} from '../sensors/sensor-args.js';

export type { CommandArgs } from '../executor/command-options.js';
export type { KubernetesPodArgs, PodEnvFrom, PodEnvValue, PodOnFinish, PodOptions } from '../executor/kubernetes-options.js';
export type {
  DateTimeSensorArgs,
  ExternalTaskSensorArgs,
  FileSensorArgs,
  HttpResponseCheck,
  HttpSensorArgs,
  ObjectSensorArgs,
  TimeDeltaSensorArgs,
  TimeSensorArgs,
} from '../sensors/sensor-args.js';

function invalid(operator: string, problem: { path: string; message: string }): never {
  throw new TributaryError('OPERATOR_ARGS_INVALID', `${operator}(): ${problem.path ? `option '${problem.path}': ` : ''}${problem.message}`, {
    location: problem.path ? { field: problem.path } : {},
  });
}

/**
 * Run a program on the worker (no shell unless `shell` is set); its output goes to the task log line
 * by line and, by default, its last line of stdout is the task's result.
 *
 * @example
 * ```ts
 * import { command } from '@tributary/engine/operators';
 * etl.task('export', command({ command: 'pg_dump', args: ['--table', 'listings', 'deals'], result: 'none' }), { retries: 2 });
 * ```
 */
export function command<R = string | undefined>(args: CommandArgs): OperatorSpec<R> {
  const problem = validateCommandArgs(args);
  if (problem) invalid('command', problem);
  return { operator: 'tributary.command', args };
}

/**
 * Run a container in its own Kubernetes pod; its log goes to the task log while it runs and the JSON
 * it writes to `/dev/termination-log` is the task's result.
 *
 * @example
 * ```ts
 * import { kubernetesPod } from '@tributary/engine/operators';
 * deals.task('score', kubernetesPod({ image: 'registry.example.com/scoring:1.4', args: ['--county', 'king'],
 *   resources: { requests: { cpu: '1', memory: '2Gi' } } }), { executionTimeout: '30m' });
 * ```
 */
export function kubernetesPod<R = unknown>(args: KubernetesPodArgs): OperatorSpec<R> {
  const parsed = parseKubernetesPodArgs(args);
  if ('problem' in parsed) invalid('kubernetesPod', parsed.problem);
  return { operator: 'tributary.kubernetesPod', args };
}

function sensor<R>(name: string, schema: z.ZodType, args: unknown): OperatorSpec<R> {
  const parsed = schema.safeParse(args);
  if (!parsed.success) invalid(name, firstProblem(parsed.error));
  return { operator: `tributary.${name}`, args, kind: 'sensor' };
}

/**
 * A sensor waiting for a time of day on the day the run's data interval ends (Airflow's `TimeSensor`;
 * a backfilled run of an earlier day passes at once).
 *
 * @example
 * ```ts
 * d.task('after_close', timeSensor({ time: '17:30', timezone: 'America/New_York' }), { sensor: { mode: 'reschedule', pokeInterval: '5m' } });
 * ```
 */
export function timeSensor(args: TimeSensorArgs): OperatorSpec<undefined> {
  return sensor('timeSensor', timeSensorArgsSchema, args);
}

/** A sensor waiting until a date and time (Airflow's `DateTimeSensor`). */
export function dateTimeSensor(args: DateTimeSensorArgs): OperatorSpec<undefined> {
  return sensor('dateTimeSensor', dateTimeSensorArgsSchema, args);
}

/** A sensor waiting until `delta` after the run's data interval ends (Airflow's `TimeDeltaSensor`). */
export function timeDeltaSensor(args: TimeDeltaSensorArgs): OperatorSpec<undefined> {
  return sensor('timeDeltaSensor', timeDeltaSensorArgsSchema, args);
}

/**
 * A sensor waiting for another DAG's run (or some of its tasks) with the matching logical date to
 * reach an allowed state (Airflow's `ExternalTaskSensor`). Its result names the run it watched.
 *
 * @example
 * ```ts
 * d.task('wait_for_ingest', externalTaskSensor({ externalDagId: 'ingest', externalTaskId: 'load', executionDelta: '1h' }),
 *   { sensor: { mode: 'reschedule', pokeInterval: '2m', timeout: '6h' } });
 * ```
 */
export function externalTaskSensor(args: ExternalTaskSensorArgs): OperatorSpec<{ dagId: string; runId: string; logicalDate: string }> {
  return sensor('externalTaskSensor', externalTaskSensorArgsSchema, args);
}

/** A sensor waiting for a file (a path or a glob) on the worker (Airflow's `FileSensor`). Its result lists the matches. */
export function fileSensor(args: FileSensorArgs): OperatorSpec<{ files: string[] }> {
  return sensor('fileSensor', fileSensorArgsSchema, args);
}

/**
 * A sensor waiting for an object (a key, or any key under a prefix) in the engine's object store
 * (Airflow's `S3KeySensor` and kin). Its result lists the objects found.
 */
export function objectSensor(args: ObjectSensorArgs): OperatorSpec<{ bucket: string; objects: { key: string; size: number; lastModified: string }[] }> {
  return sensor('objectSensor', objectSensorArgsSchema, args);
}

/**
 * A sensor waiting for an HTTP condition: an expected status and, optionally, a check of the body
 * (Airflow's `HttpSensor`). Its result is the status and the JSON body, if any.
 *
 * @example
 * ```ts
 * d.task('export_ready', httpSensor({ url: 'https://api.example.com/exports/42', responseCheck: { jsonPath: 'status', equals: 'done' } }),
 *   { sensor: { pokeInterval: '30s', timeout: '1h' } });
 * ```
 */
export function httpSensor(args: HttpSensorArgs): OperatorSpec<{ status: number; json?: unknown }> {
  return sensor('httpSensor', httpSensorArgsSchema, args);
}
