import type { BranchChoice } from './flow.js';
import type { ExpandInput, MappedArgs } from './mapping.js';
import { resolveTaskOptions } from './options.js';
import type { PokeResult } from './sensor-options.js';
import { checkTaskId, type TaskKind } from './task-definition.js';
import type {
  GroupRef,
  OperatorSpec,
  ResolvedTaskOptions,
  SerializedSchedule,
  TaskContext,
  TaskDefinitionOptions,
  TaskFunction,
  TaskOptions,
  TaskRef,
  UpstreamRef,
  UpstreamResults,
} from './types.js';

type NoUpstream = Record<string, never>;
/** The `args` of a task that has none. */
type NoArgs = Record<never, never>;

/** Options of an unmapped task. */
export type PlainTaskOptions<U extends readonly UpstreamRef[], A> = Omit<TaskDefinitionOptions<U, A>, 'expand'> & { expand?: undefined };
/** Options of a mapped task: `expand` is required. */
export type MappedTaskOptions<U extends readonly UpstreamRef[], A, E extends ExpandInput> = Omit<TaskDefinitionOptions<U, A>, 'expand'> & {
  expand: E;
};
/** Options of a short-circuit task. */
export type ShortCircuitOptions<U extends readonly UpstreamRef[], A> = PlainTaskOptions<U, A> & {
  /**
   * When the result is falsy, skip every task downstream whatever its trigger rule (true), or only the
   * direct downstream tasks, letting the others follow their trigger rules (false).
   * @defaultValue true
   */
  ignoreDownstreamTriggerRules?: boolean;
};
/** A sensor's poke: whether its condition is met (and optionally the task's result). */
export type PokeFunction<P, U, R, A> = (context: TaskContext<P, U, A>) => boolean | PokeResult<R> | Promise<boolean | PokeResult<R>>;

/** Options of a task group. */
export interface GroupOptions {
  /** Tasks or groups every root task of the group depends on. */
  upstream?: readonly UpstreamRef[];
  /** Task options for the group's tasks, over the DAG's `defaultTaskOptions`. */
  defaultTaskOptions?: TaskOptions;
}

/** What a builder forwards to its DAG. @internal */
export interface TaskRegistry {
  readonly dagId: string;
  readonly schedule: { schedule: SerializedSchedule; timezone: string; startDate: string | null };
  define(kind: TaskKind, id: string, group: string | null, defaults: Readonly<ResolvedTaskOptions>, second: unknown, third: unknown): TaskRef;
  defineGroup(id: string, upstream: readonly UpstreamRef[] | undefined): void;
  finishGroup(id: string, upstream: readonly UpstreamRef[] | undefined): GroupRef;
}

/**
 * Defines tasks: the methods shared by a {@link Dag} and its task groups. Ids are prefixed with the
 * group's id (`extract.download`).
 */
export abstract class TaskBuilder<P extends Record<string, unknown>, Prefix extends string> {
  /** @internal */
  protected abstract readonly registry: TaskRegistry;
  /** @internal The group id, null for the DAG. */
  protected abstract readonly groupId: string | null;
  /** @internal Task defaults in this builder. */
  protected abstract readonly taskDefaults: Readonly<ResolvedTaskOptions>;

  #define(kind: TaskKind, id: string, second: unknown, third: unknown): TaskRef {
    checkTaskId(id, this.registry.dagId);
    const fullId = this.groupId === null ? id : `${this.groupId}.${id}`;
    return this.registry.define(kind, fullId, this.groupId, this.taskDefaults, second, third);
  }

  /**
   * Add a task: an inline function, or a plugin operator's spec. Returns a reference to pass in other
   * tasks' `upstream`; the downstream task then receives this task's result, typed, in `ctx.upstream`.
   * With `expand` the task is mapped: one instance per element, and downstream tasks receive the list
   * of results.
   *
   * @example
   * ```ts
   * const extract = etl.task('extract', async () => ['a.csv', 'b.csv']);
   * const load = etl.task('load', { args: { table: 'raw' }, expand: { file: extract } }, ({ args }) => `${args.table}/${args.file}`);
   * etl.task('report', { upstream: [load] }, ({ upstream }) => upstream.load.length);
   * ```
   */
  task<const Id extends string, R>(id: Id, fn: TaskFunction<P, NoUpstream, R, NoArgs>): TaskRef<`${Prefix}${Id}`, Awaited<R>>;
  task<const Id extends string, const U extends readonly UpstreamRef[], A extends Record<string, unknown>, E extends ExpandInput, R>(
    id: Id,
    options: MappedTaskOptions<U, A, E>,
    fn: TaskFunction<P, UpstreamResults<U>, R, A & MappedArgs<E>>,
  ): TaskRef<`${Prefix}${Id}`, Awaited<R>[]>;
  task<const Id extends string, const U extends readonly UpstreamRef[], R, A extends Record<string, unknown> = NoArgs>(
    id: Id,
    options: PlainTaskOptions<U, A>,
    fn: TaskFunction<P, UpstreamResults<U>, R, A>,
  ): TaskRef<`${Prefix}${Id}`, Awaited<R>>;
  task<const Id extends string, R, const U extends readonly UpstreamRef[], E extends ExpandInput>(
    id: Id,
    operator: OperatorSpec<R>,
    options: MappedTaskOptions<U, never, E>,
  ): TaskRef<`${Prefix}${Id}`, R[]>;
  task<const Id extends string, R, const U extends readonly UpstreamRef[] = []>(
    id: Id,
    operator: OperatorSpec<R>,
    options?: PlainTaskOptions<U, never>,
  ): TaskRef<`${Prefix}${Id}`, R>;
  task(id: string, second: unknown, third?: unknown): TaskRef {
    return this.#define('task', id, second, third);
  }

  /**
   * Add a sensor: `poke` is called until it returns true (or `{ done: true, value }`), every
   * `sensor.pokeInterval`, within `sensor.timeout`; in `reschedule` mode the worker slot is freed
   * between pokes.
   *
   * @example
   * ```ts
   * d.sensor('wait_for_export', { sensor: { mode: 'reschedule', pokeInterval: '5m', timeout: '6h' } },
   *   async () => existsSync('/data/export.csv'));
   * ```
   */
  sensor<const Id extends string, R = undefined>(id: Id, poke: PokeFunction<P, NoUpstream, R, NoArgs>): TaskRef<`${Prefix}${Id}`, R>;
  sensor<const Id extends string, const U extends readonly UpstreamRef[], R = undefined, A extends Record<string, unknown> = NoArgs>(
    id: Id,
    options: PlainTaskOptions<U, A>,
    poke: PokeFunction<P, UpstreamResults<U>, R, A>,
  ): TaskRef<`${Prefix}${Id}`, R>;
  sensor(id: string, second: unknown, third?: unknown): TaskRef {
    return this.#define('sensor', id, second, third);
  }

  /**
   * Add a branch: its function returns the downstream task (or group) ids to follow — one, several,
   * or none — and its other direct downstream tasks are skipped (their downstream tasks then follow
   * their trigger rules: join with `none_failed_min_one_success`). Its result is the list followed.
   */
  branch<const Id extends string>(id: Id, fn: TaskFunction<P, NoUpstream, BranchChoice, NoArgs>): TaskRef<`${Prefix}${Id}`, string[]>;
  branch<const Id extends string, const U extends readonly UpstreamRef[], A extends Record<string, unknown> = NoArgs>(
    id: Id,
    options: PlainTaskOptions<U, A>,
    fn: TaskFunction<P, UpstreamResults<U>, BranchChoice, A>,
  ): TaskRef<`${Prefix}${Id}`, string[]>;
  branch(id: string, second: unknown, third?: unknown): TaskRef {
    return this.#define('branch', id, second, third);
  }

  /**
   * Add a short-circuit task: when its result is falsy, the tasks downstream of it are skipped (all
   * of them by default; see `ignoreDownstreamTriggerRules`). Its result is stored as usual.
   */
  shortCircuit<const Id extends string, R>(id: Id, fn: TaskFunction<P, NoUpstream, R, NoArgs>): TaskRef<`${Prefix}${Id}`, Awaited<R>>;
  shortCircuit<const Id extends string, const U extends readonly UpstreamRef[], R, A extends Record<string, unknown> = NoArgs>(
    id: Id,
    options: ShortCircuitOptions<U, A>,
    fn: TaskFunction<P, UpstreamResults<U>, R, A>,
  ): TaskRef<`${Prefix}${Id}`, Awaited<R>>;
  shortCircuit(id: string, second: unknown, third?: unknown): TaskRef {
    return this.#define('short_circuit', id, second, third);
  }

  /**
   * Add a latest-only task (Airflow's `LatestOnlyOperator`): in a scheduled or backfill run that is
   * not the latest (the next run is already due), its direct downstream tasks are skipped; manual
   * and test runs always proceed. Its result is whether the run is the latest.
   */
  latestOnly<const Id extends string = 'latest_only'>(id?: Id, options: PlainTaskOptions<readonly UpstreamRef[], never> = {}): TaskRef<`${Prefix}${Id}`, boolean> {
    const spec: OperatorSpec<boolean> = { operator: 'tributary.latestOnly', args: { ...this.registry.schedule } };
    return this.#define('short_circuit', id ?? 'latest_only', spec, { ...options, ignoreDownstreamTriggerRules: false }) as TaskRef<`${Prefix}${Id}`, boolean>;
  }

  /**
   * Add a task group: the tasks `build` adds get ids prefixed with the group's (`extract.download`).
   * The returned ref stands for the whole group in `upstream` lists (its leaf tasks), and the group's
   * own `upstream` option makes every root task of the group depend on those tasks.
   *
   * @example
   * ```ts
   * const extract = d.group('extract', (g) => {
   *   g.task('download', () => 'raw.csv');
   *   g.task('unzip', { upstream: ['extract.download'] }, () => 'data.csv');
   * });
   * d.task('load', { upstream: [extract] }, () => 'loaded');
   * ```
   */
  group<const Id extends string>(id: Id, build: (group: TaskGroup<P, `${Prefix}${Id}.`>) => void): GroupRef<`${Prefix}${Id}`>;
  group<const Id extends string>(id: Id, options: GroupOptions, build: (group: TaskGroup<P, `${Prefix}${Id}.`>) => void): GroupRef<`${Prefix}${Id}`>;
  group(id: string, second: unknown, third?: unknown): GroupRef {
    checkTaskId(id, this.registry.dagId);
    const options = (typeof second === 'function' ? {} : (second ?? {})) as GroupOptions;
    const build = (typeof second === 'function' ? second : third) as (group: TaskGroup<P, string>) => void;
    const fullId = this.groupId === null ? id : `${this.groupId}.${id}`;
    if (typeof build !== 'function') throw new TypeError(`DAG '${this.registry.dagId}': group '${fullId}': expected group(id, build) or group(id, options, build)`);
    const defaults = resolveTaskOptions(options.defaultTaskOptions, this.taskDefaults, {
      dagId: this.registry.dagId,
      taskId: fullId,
      field: 'defaultTaskOptions',
    });
    this.registry.defineGroup(fullId, options.upstream);
    build(new TaskGroup<P, string>(this.registry, fullId, Object.freeze(defaults)));
    return this.registry.finishGroup(fullId, options.upstream);
  }
}

/** A group of tasks inside a DAG, built by {@link TaskBuilder.group}. */
export class TaskGroup<P extends Record<string, unknown>, Prefix extends string> extends TaskBuilder<P, Prefix> {
  /** @internal */
  protected readonly registry: TaskRegistry;
  /** The group's full id. */
  readonly id: string;
  /** @internal */
  protected readonly groupId: string;
  /** @internal */
  protected readonly taskDefaults: Readonly<ResolvedTaskOptions>;

  /** @internal Created by {@link TaskBuilder.group}. */
  constructor(registry: TaskRegistry, id: string, defaults: Readonly<ResolvedTaskOptions>) {
    super();
    this.registry = registry;
    this.id = id;
    this.groupId = id;
    this.taskDefaults = defaults;
  }
}
