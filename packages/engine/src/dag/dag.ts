import { DagDefinitionError, type ErrorLocation } from '../errors.js';
import { isValidTimezone, parseDateInZone, parseSchedule, serializeSchedule, type ParsedSchedule } from '../schedule/schedule.js';
import {
  DEFAULT_MAX_ACTIVE_RUNS,
  DEFAULT_MAX_ACTIVE_TASKS,
  DEFAULT_TASK_OPTIONS,
  checkId,
  resolveTaskOptions,
} from './options.js';
import { compileParamsSchema } from './params.js';
import type {
  DagOptions,
  OperatorSpec,
  ParamsOf,
  ParamsSchema,
  ResolvedTaskOptions,
  SerializedSchedule,
  TaskDefinitionOptions,
  TaskFunction,
  TaskRef,
  UpstreamRef,
  UpstreamResults,
} from './types.js';

const DAG_BRAND = Symbol.for('tributary.dag');

/** DAG options after validation, with defaults applied. */
export interface ResolvedDagOptions {
  readonly id: string;
  readonly description: string | null;
  readonly docs: string | null;
  /** The schedule in its stored form. */
  readonly schedule: SerializedSchedule;
  readonly parsedSchedule: ParsedSchedule;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
  readonly timezone: string;
  readonly catchup: boolean;
  readonly tags: readonly string[];
  readonly pausedOnCreation: boolean;
  readonly params: ParamsSchema | null;
  readonly maxActiveRuns: number;
  readonly maxActiveTasks: number;
  readonly defaultTaskOptions: Readonly<ResolvedTaskOptions>;
}

/** One task of a DAG as defined in its file. */
export interface TaskDefinition {
  readonly id: string;
  readonly kind: 'function' | 'operator';
  /** The inline function, for `kind: 'function'`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly fn: TaskFunction<any, any, unknown> | null;
  /** The operator spec, for `kind: 'operator'`. */
  readonly operator: OperatorSpec | null;
  /** Upstream task ids, in the order given. */
  readonly upstream: readonly string[];
  readonly options: Readonly<ResolvedTaskOptions>;
  readonly docs: string | null;
}

const DAG_OPTION_KEYS = new Set([
  'id',
  'description',
  'docs',
  'schedule',
  'startDate',
  'endDate',
  'timezone',
  'catchup',
  'tags',
  'pausedOnCreation',
  'params',
  'defaultTaskOptions',
  'maxActiveRuns',
  'maxActiveTasks',
]);

function resolveDagOptions(options: DagOptions): ResolvedDagOptions {
  if (options === null || typeof options !== 'object') {
    throw new DagDefinitionError(`dag() expects an options object, got ${options === null ? 'null' : typeof options}`, {});
  }
  const idProblem = checkId(options.id, 'DAG');
  if (idProblem) throw new DagDefinitionError(idProblem, { field: 'id' });
  const dagId = options.id;
  const fail = (field: string, message: string): never => {
    throw new DagDefinitionError(`option '${field}': ${message}`, { dagId, field });
  };
  for (const key of Object.keys(options)) {
    if (!DAG_OPTION_KEYS.has(key)) fail(key, `unknown option (expected one of ${[...DAG_OPTION_KEYS].join(', ')})`);
  }
  const optionalText = (field: 'description' | 'docs'): string | null => {
    const value = options[field];
    if (value === undefined || value === null) return null;
    return typeof value === 'string' ? value : fail(field, `expected a string, got ${typeof value}`);
  };
  const positive = (field: 'maxActiveRuns' | 'maxActiveTasks', fallback: number): number => {
    const value = options[field];
    if (value === undefined) return fallback;
    return typeof value === 'number' && Number.isInteger(value) && value >= 1
      ? value
      : fail(field, `expected an integer >= 1, got ${JSON.stringify(value)}`);
  };

  const timezone = options.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) fail('timezone', `unknown IANA time zone '${String(timezone)}'`);
  let parsedSchedule: ParsedSchedule;
  try {
    parsedSchedule = parseSchedule(options.schedule, timezone);
  } catch (error) {
    return fail('schedule', (error as Error).message);
  }
  const date = (field: 'startDate' | 'endDate'): Date | null => {
    const value = options[field];
    if (value === undefined || value === null) return null;
    return parseDateInZone(value, timezone) ?? fail(field, `expected a Date or an ISO 8601 date string, got ${JSON.stringify(value)}`);
  };
  const startDate = date('startDate');
  const endDate = date('endDate');
  const timeBased = parsedSchedule.kind !== 'none' && parsedSchedule.kind !== 'assets';
  if (timeBased && startDate === null) {
    const shown = typeof options.schedule === 'string' ? `'${options.schedule}'` : JSON.stringify(options.schedule);
    fail('startDate', `is required when a schedule is set (schedule ${shown}; only an asset schedule goes without)`);
  }
  if (parsedSchedule.kind === 'continuous' && options.maxActiveRuns !== undefined && options.maxActiveRuns !== 1) {
    fail('maxActiveRuns', `must be 1 with schedule '@continuous' (a run starts when the previous one finished), got ${JSON.stringify(options.maxActiveRuns)}`);
  }
  if (startDate && endDate && endDate.getTime() < startDate.getTime()) fail('endDate', 'is before startDate');
  if (options.catchup !== undefined && typeof options.catchup !== 'boolean') fail('catchup', 'expected true or false');
  if (options.pausedOnCreation !== undefined && typeof options.pausedOnCreation !== 'boolean') {
    fail('pausedOnCreation', 'expected true or false');
  }
  const tags = options.tags ?? [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) fail('tags', 'expected an array of strings');
  let params: ParamsSchema | null = null;
  if (options.params !== undefined && options.params !== null) {
    try {
      compileParamsSchema(options.params);
    } catch (error) {
      fail('params', (error as Error).message);
    }
    params = options.params;
  }
  const defaultTaskOptions = resolveTaskOptions(options.defaultTaskOptions, DEFAULT_TASK_OPTIONS, {
    dagId,
    field: 'defaultTaskOptions',
  });
  return Object.freeze({
    id: dagId,
    description: optionalText('description'),
    docs: optionalText('docs'),
    schedule: serializeSchedule(options.schedule, parsedSchedule),
    parsedSchedule,
    startDate,
    endDate,
    timezone,
    catchup: options.catchup ?? false,
    tags: Object.freeze([...tags]),
    pausedOnCreation: options.pausedOnCreation ?? false,
    params,
    maxActiveRuns: positive('maxActiveRuns', parsedSchedule.kind === 'continuous' ? 1 : DEFAULT_MAX_ACTIVE_RUNS),
    maxActiveTasks: positive('maxActiveTasks', DEFAULT_MAX_ACTIVE_TASKS),
    defaultTaskOptions: Object.freeze(defaultTaskOptions),
  });
}

const TASK_EXTRA_KEYS = new Set(['upstream', 'docs']);

/**
 * A DAG: tasks and the dependencies between them, with a schedule. Build one with {@link dag}, add tasks
 * with {@link Dag.task}, and export it from a DAG file.
 */
export class Dag<P extends Record<string, unknown> = Record<string, unknown>> {
  /** @internal Marks DAG objects across copies of this module. */
  readonly [DAG_BRAND] = true;
  readonly id: string;
  readonly options: ResolvedDagOptions;
  readonly #tasks = new Map<string, TaskDefinition>();

  /** Prefer {@link dag}, which also infers the params type from the schema. */
  constructor(options: DagOptions) {
    this.options = resolveDagOptions(options);
    this.id = this.options.id;
  }

  /** Tasks in the order they were added. */
  get tasks(): ReadonlyMap<string, TaskDefinition> {
    return this.#tasks;
  }

  /**
   * Add a task: an inline function, or a plugin operator's spec. Returns a reference to pass in other
   * tasks' `upstream`; the downstream task then receives this task's result, typed, in `ctx.upstream`.
   *
   * @example
   * ```ts
   * const extract = etl.task('extract', async () => [1, 2, 3]);
   * etl.task('load', { upstream: [extract], retries: 2 }, async ({ upstream }) => upstream.extract.length);
   * ```
   */
  task<const Id extends string, R>(id: Id, fn: TaskFunction<P, Record<string, never>, R>): TaskRef<Id, Awaited<R>>;
  task<const Id extends string, const U extends readonly UpstreamRef[], R>(
    id: Id,
    options: TaskDefinitionOptions<U>,
    fn: TaskFunction<P, UpstreamResults<U>, R>,
  ): TaskRef<Id, Awaited<R>>;
  task<const Id extends string, R, const U extends readonly UpstreamRef[] = []>(
    id: Id,
    operator: OperatorSpec<R>,
    options?: TaskDefinitionOptions<U>,
  ): TaskRef<Id, R>;
  task(id: string, second: unknown, third?: unknown): TaskRef {
    const idProblem = checkId(id, 'task');
    if (idProblem) throw new DagDefinitionError(idProblem, { dagId: this.id });
    const location: ErrorLocation = { dagId: this.id, taskId: id };
    if (this.#tasks.has(id)) throw new DagDefinitionError(`duplicate task id '${id}'`, location, { code: 'DAG_DUPLICATE_TASK' });

    let fn: TaskDefinition['fn'] = null;
    let operator: OperatorSpec | null = null;
    let options: TaskDefinitionOptions | undefined;
    if (typeof second === 'function') {
      if (third !== undefined) throw new DagDefinitionError('pass options before the function: task(id, options, fn)', location);
      fn = second as TaskDefinition['fn'];
    } else if (isOperatorSpec(second)) {
      operator = second;
      options = third as TaskDefinitionOptions | undefined;
    } else if (typeof third === 'function') {
      options = second as TaskDefinitionOptions;
      fn = third as TaskDefinition['fn'];
    } else {
      throw new DagDefinitionError(
        'expected task(id, fn), task(id, options, fn) or task(id, operatorSpec, options?)',
        location,
      );
    }
    const resolved = resolveTaskOptions(options, this.options.defaultTaskOptions, location, TASK_EXTRA_KEYS);
    const upstream = this.#resolveUpstream(options?.upstream, location);
    const docs = options?.docs;
    if (docs !== undefined && typeof docs !== 'string') {
      throw new DagDefinitionError(`option 'docs': expected a string`, { ...location, field: 'docs' });
    }
    this.#tasks.set(
      id,
      Object.freeze({
        id,
        kind: fn ? 'function' : 'operator',
        fn,
        operator,
        upstream: Object.freeze(upstream),
        options: Object.freeze(resolved),
        docs: docs ?? null,
      }),
    );
    return Object.freeze({ id, dagId: this.id });
  }

  #resolveUpstream(upstream: unknown, location: ErrorLocation): string[] {
    if (upstream === undefined) return [];
    const field = { ...location, field: 'upstream' };
    if (!Array.isArray(upstream)) throw new DagDefinitionError(`option 'upstream': expected an array of task refs or ids`, field);
    const ids: string[] = [];
    for (const ref of upstream as unknown[]) {
      let id: string;
      if (typeof ref === 'string') {
        id = ref;
      } else if (ref && typeof ref === 'object' && typeof (ref as TaskRef).id === 'string') {
        const taskRef = ref as TaskRef;
        if (taskRef.dagId !== this.id) {
          throw new DagDefinitionError(
            `option 'upstream': task '${taskRef.id}' belongs to DAG '${taskRef.dagId}', not this DAG`,
            field,
          );
        }
        id = taskRef.id;
      } else {
        throw new DagDefinitionError(`option 'upstream': expected task refs or ids, got ${JSON.stringify(ref)}`, field);
      }
      if (id === location.taskId) throw new DagDefinitionError(`option 'upstream': a task cannot depend on itself`, field);
      if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }
}

function isOperatorSpec(value: unknown): value is OperatorSpec {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as OperatorSpec).operator === 'string' &&
    'args' in (value as object)
  );
}

/**
 * Define a DAG. The type of `ctx.params` in its tasks is derived from the `params` JSON Schema.
 *
 * @example
 * ```ts
 * export default dag({
 *   id: 'daily_report',
 *   schedule: '0 6 * * *',
 *   startDate: '2024-01-01',
 *   timezone: 'Europe/Paris',
 *   params: { type: 'object', properties: { limit: { type: 'integer', default: 10 } } },
 * });
 * ```
 */
export function dag<const S extends ParamsSchema | undefined = undefined>(options: DagOptions<S>): Dag<ParamsOf<S>> {
  return new Dag<ParamsOf<S>>(options as DagOptions);
}

/** True for a {@link Dag}, including one created by another copy of this package. */
export function isDag(value: unknown): value is Dag {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[DAG_BRAND] === true;
}
