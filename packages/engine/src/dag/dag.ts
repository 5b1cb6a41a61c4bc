import { DagDefinitionError, type ErrorLocation } from '../errors.js';
import { isValidTimezone, parseDateInZone, parseSchedule, serializeSchedule, type ParsedSchedule } from '../schedule/schedule.js';
import {
  DEFAULT_MAX_ACTIVE_RUNS,
  DEFAULT_MAX_ACTIVE_TASKS,
  DEFAULT_TASK_OPTIONS,
  checkId,
  resolveTaskOptions,
} from './options.js';
import { checkParamsSchema } from './params.js';
import {
  DAG_CALLBACK_KINDS,
  DAG_CALLBACK_OPTIONS,
  DEADLINE_REFERENCES,
  callbackList,
  type DagCallbacks,
  type DagRunCallback,
  type DeadlineReference,
} from './callbacks.js';
import { durationToMs } from './duration.js';
import { inGroup } from './graph-view.js';
import { TaskBuilder, type TaskRegistry } from './task-builder.js';
import { buildTaskDefinition, type DefinitionScope, type TaskDefinition } from './task-definition.js';
import type { DagOptions, GroupRef, ParamsOf, ParamsSchema, ResolvedTaskOptions, SerializedSchedule, TaskRef } from './types.js';

export type { TaskDefinition } from './task-definition.js';

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
  /** Run callbacks by kind (only kinds that have some). */
  readonly callbacks: DagCallbacks;
  /** The deadline alert, `after` in milliseconds; null when none. */
  readonly deadline: { readonly reference: DeadlineReference; readonly afterMs: number; readonly callback: DagRunCallback } | null;
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
  'onSuccess',
  'onFailure',
  'deadline',
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
      checkParamsSchema(options.params);
    } catch (error) {
      fail('params', (error as Error).message);
    }
    params = options.params;
  }
  const defaultTaskOptions = resolveTaskOptions(options.defaultTaskOptions, DEFAULT_TASK_OPTIONS, {
    dagId,
    field: 'defaultTaskOptions',
  });
  const callbacks: Partial<Record<(typeof DAG_CALLBACK_KINDS)[number], readonly DagRunCallback[]>> = {};
  for (const kind of DAG_CALLBACK_KINDS) {
    const field = DAG_CALLBACK_OPTIONS[kind];
    const list = callbackList<DagRunCallback>(options[field]);
    if (typeof list === 'string') fail(field, list);
    else if (list.length > 0) callbacks[kind] = list;
  }
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
    callbacks: Object.freeze(callbacks),
    deadline: resolveDeadline(options.deadline, fail),
  });
}

function resolveDeadline(value: DagOptions['deadline'], fail: (field: string, message: string) => never): ResolvedDagOptions['deadline'] {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return fail('deadline', 'expected { reference, after, callback }');
  for (const key of Object.keys(value)) {
    if (key !== 'reference' && key !== 'after' && key !== 'callback') fail(`deadline.${key}`, 'unknown option (expected reference, after, callback)');
  }
  if (!DEADLINE_REFERENCES.includes(value.reference)) {
    fail('deadline.reference', `expected one of ${DEADLINE_REFERENCES.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(value.reference)}`);
  }
  const afterMs = typeof value.after === 'number' || typeof value.after === 'string' ? durationToMs(value.after) : `expected a duration, got ${typeof value.after}`;
  if (typeof afterMs === 'string') return fail('deadline.after', afterMs);
  if (typeof value.callback !== 'function') fail('deadline.callback', `expected a function, got ${typeof value.callback}`);
  return Object.freeze({ reference: value.reference, afterMs, callback: value.callback });
}

/**
 * A DAG: tasks and the dependencies between them, with a schedule. Build one with {@link dag}, add tasks
 * with {@link Dag.task} (and `sensor`, `branch`, `shortCircuit`, `latestOnly`, `group`), and export it
 * from a DAG file.
 */
export class Dag<P extends Record<string, unknown> = Record<string, unknown>> extends TaskBuilder<P, ''> {
  /** @internal Marks DAG objects across copies of this module. */
  readonly [DAG_BRAND] = true;
  readonly id: string;
  readonly options: ResolvedDagOptions;
  readonly #tasks = new Map<string, TaskDefinition>();
  /** Group ids: open (being built) → false, finished → true. */
  readonly #groups = new Map<string, boolean>();
  /** @internal */
  protected readonly registry: TaskRegistry;
  /** @internal */
  protected readonly groupId = null;
  /** @internal */
  protected readonly taskDefaults: Readonly<ResolvedTaskOptions>;

  /** Prefer {@link dag}, which also infers the params type from the schema. */
  constructor(options: DagOptions) {
    super();
    this.options = resolveDagOptions(options);
    this.id = this.options.id;
    this.taskDefaults = this.options.defaultTaskOptions;
    const scope: DefinitionScope = {
      dagId: this.id,
      resolveUpstream: (upstream, location, field) => this.#resolveUpstream(upstream, location, field),
      task: (id) => this.#tasks.get(id),
    };
    this.registry = {
      dagId: this.id,
      schedule: { schedule: this.options.schedule, timezone: this.options.timezone, startDate: this.options.startDate?.toISOString() ?? null },
      define: (kind, id, group, defaults, second, third) => {
        const location: ErrorLocation = { dagId: this.id, taskId: id };
        if (this.#tasks.has(id) || this.#groups.has(id)) {
          throw new DagDefinitionError(`duplicate task id '${id}'${this.#groups.has(id) ? ' (a task group has this id)' : ''}`, location, { code: 'DAG_DUPLICATE_TASK' });
        }
        const definition = buildTaskDefinition({ id, group, defaults, kind, second, third }, scope);
        this.#tasks.set(id, definition);
        return Object.freeze({ id, dagId: this.id });
      },
      defineGroup: (id) => {
        if (this.#tasks.has(id) || this.#groups.has(id)) {
          throw new DagDefinitionError(`duplicate group id '${id}'${this.#tasks.has(id) ? ' (a task has this id)' : ''}`, { dagId: this.id, taskId: id }, { code: 'DAG_DUPLICATE_TASK' });
        }
        this.#groups.set(id, false);
      },
      finishGroup: (id, upstream) => {
        const location: ErrorLocation = { dagId: this.id, taskId: id };
        const extra = this.#resolveUpstream(upstream, location, 'upstream');
        const members = [...this.#tasks.values()].filter((t) => inGroup(t.group, id));
        if (members.length === 0) throw new DagDefinitionError(`group '${id}' has no tasks`, location);
        const memberIds = new Set(members.map((t) => t.id));
        for (const task of members) {
          if (extra.length === 0 || task.upstream.some((up) => memberIds.has(up))) continue;
          if (extra.includes(task.id)) throw new DagDefinitionError(`option 'upstream': a group cannot depend on its own task '${task.id}'`, location);
          this.#tasks.set(task.id, Object.freeze({ ...task, upstream: Object.freeze([...new Set([...task.upstream, ...extra])]) }));
        }
        this.#groups.set(id, true);
        return Object.freeze({ id, dagId: this.id, kind: 'group' as const });
      },
    };
  }

  /** Tasks in the order they were added. */
  get tasks(): ReadonlyMap<string, TaskDefinition> {
    return this.#tasks;
  }

  /** The leaf tasks of a finished group, for a dependency on the whole group (teardowns stand back for their work). */
  #groupLeaves(groupId: string, location: ErrorLocation, field: string): string[] {
    if (this.#groups.get(groupId) !== true) {
      throw new DagDefinitionError(`option '${field}': group '${groupId}' is ${this.#groups.has(groupId) ? 'still being built' : 'not a group of this DAG'}`, { ...location, field });
    }
    const members = [...this.#tasks.values()].filter((t) => inGroup(t.group, groupId));
    const ids = new Set(members.map((t) => t.id));
    const downstreamInGroup = new Map<string, string[]>(members.map((t) => [t.id, []]));
    for (const t of members) for (const up of t.upstream) downstreamInGroup.get(up)?.push(t.id);
    const leaves = new Set<string>();
    for (const t of members) {
      if (downstreamInGroup.get(t.id)!.length > 0) continue;
      if (!t.isTeardown) {
        leaves.add(t.id);
        continue;
      }
      // A teardown is not a leaf: the work it follows is (Airflow's TaskGroup.get_leaves).
      for (const up of t.upstream) {
        const task = this.#tasks.get(up);
        if (!ids.has(up) || !task || task.isSetup || task.isTeardown) continue;
        if (downstreamInGroup.get(up)!.every((d) => this.#tasks.get(d)!.isTeardown)) leaves.add(up);
      }
    }
    return [...leaves];
  }

  #resolveUpstream(upstream: unknown, location: ErrorLocation, field = 'upstream'): string[] {
    if (upstream === undefined) return [];
    const at = { ...location, field };
    if (!Array.isArray(upstream)) throw new DagDefinitionError(`option '${field}': expected an array of task refs or ids`, at);
    const ids: string[] = [];
    for (const ref of upstream as unknown[]) {
      let resolved: string[];
      if (typeof ref === 'string') {
        resolved = [ref];
      } else if (ref && typeof ref === 'object' && typeof (ref as TaskRef).id === 'string') {
        const taskRef = ref as TaskRef | GroupRef;
        if (taskRef.dagId !== this.id) {
          throw new DagDefinitionError(`option '${field}': ${'kind' in taskRef ? 'group' : 'task'} '${taskRef.id}' belongs to DAG '${taskRef.dagId}', not this DAG`, at);
        }
        resolved = 'kind' in taskRef && taskRef.kind === 'group' ? this.#groupLeaves(taskRef.id, location, field) : [taskRef.id];
      } else {
        throw new DagDefinitionError(`option '${field}': expected task refs or ids, got ${JSON.stringify(ref)}`, at);
      }
      for (const id of resolved) {
        if (id === location.taskId) throw new DagDefinitionError(`option '${field}': a task cannot depend on itself`, at);
        if (!ids.includes(id)) ids.push(id);
      }
    }
    return ids;
  }
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
