import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { AssetCondition, AssetConditionInput } from '../schedule/assets.js';
import type { DagRunCallback, DeadlineOptions, TaskCallback } from './callbacks.js';
import type { ExpandInput } from './mapping.js';
import type { SensorOptions } from './sensor-options.js';

/** Every trigger rule of Airflow 3, with the same meaning. */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'all_done_min_one_success',
  'all_done_setup_success',
  'one_success',
  'one_failed',
  'one_done',
  'none_failed',
  'none_skipped',
  'none_failed_min_one_success',
  'all_skipped',
  'always',
] as const;

/** When a task may start, given the states of its upstream tasks. */
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** How a task's effective priority is computed from its weight and its relatives' (Airflow's `weight_rule`). */
export const WEIGHT_RULES = ['downstream', 'upstream', 'absolute'] as const;
export type WeightRule = (typeof WEIGHT_RULES)[number];

/**
 * A length of time: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`.
 */
export type Duration = number | string;

/** Options every task accepts; a DAG's `defaultTaskOptions` supplies any left out. */
export interface TaskOptions {
  /**
   * How many times a failed try is retried before the task is failed.
   * @defaultValue 0
   */
  retries?: number;
  /**
   * Wait before a retry.
   * @defaultValue `'5m'` (Airflow's 300 s)
   */
  retryDelay?: Duration;
  /**
   * Double the wait after each failed try: `retryDelay * 2^(try - 1)`, capped by `maxRetryDelay`.
   * @defaultValue false
   */
  retryExponentialBackoff?: boolean;
  /**
   * Longest wait between tries when backing off exponentially.
   * @defaultValue `'24h'`
   */
  maxRetryDelay?: Duration;
  /**
   * Longest a single try may run; the task's `signal` is aborted and the try fails with `TaskTimeoutError`.
   * @defaultValue null (no limit)
   */
  executionTimeout?: Duration | null;
  /**
   * When the task may start, given its upstream tasks' states.
   * @defaultValue `'all_success'`
   */
  triggerRule?: TriggerRule;
  /**
   * Pool whose slots the task occupies while queued or running.
   * @defaultValue `'default_pool'`
   */
  pool?: string;
  /**
   * Slots of the pool the task occupies.
   * @defaultValue 1
   */
  poolSlots?: number;
  /**
   * Most instances of this task queued or running at once across all runs of the DAG (Airflow's
   * `max_active_tis_per_dag`); each map index counts as one.
   * @defaultValue null (no limit but the pool's and the DAG's)
   */
  maxActiveInstances?: number | null;
  /**
   * Most instances of this task queued or running at once within one run — for a mapped task, how
   * many of its map indexes run in parallel (Airflow's `max_active_tis_per_dagrun`).
   * @defaultValue null (no limit but the pool's and the DAG's)
   */
  maxActiveInstancesPerRun?: number | null;
  /**
   * Weight used to order queued tasks (higher first); combined with relatives' weights per `weightRule`.
   * @defaultValue 1
   */
  priorityWeight?: number;
  /**
   * How the effective priority is computed.
   * @defaultValue `'downstream'`
   */
  weightRule?: WeightRule;
  /**
   * Worker queue the task is routed to; workers choose which queues they serve.
   * @defaultValue `'default'`
   */
  queue?: string;
  /**
   * Where the task runs: in the worker's process (`'local'`), in a worker thread of its own heap and
   * event loop (`'thread'`: a task that blocks the event loop or leaks memory cannot starve the
   * worker), or in its own Kubernetes pod started by the worker (`'kubernetes'`). See docs/executors.md.
   * @defaultValue `'local'`
   */
  executor?: ExecutorName;
  /**
   * Per-task settings of the executor: for `'kubernetes'`, overrides of the pod (image, namespace,
   * resources, node selector, tolerations, env, …) on top of the engine's `kubernetes` configuration;
   * for `'thread'`, `{ memoryLimitMb }`, the heap limit of the task's thread.
   * @defaultValue null
   */
  executorConfig?: Record<string, unknown> | null;
  /**
   * Called after a try succeeded and its state is stored (Airflow's `on_success_callback`); a
   * function or a list. It runs on the worker, its lines go to the try's log, and a throw is logged
   * and changes nothing.
   * @defaultValue none
   */
  onSuccess?: TaskCallback | readonly TaskCallback[];
  /**
   * Called after the task failed with no tries left (Airflow's `on_failure_callback`), also when the
   * scheduler failed it (its worker died); not for `upstream_failed`.
   * @defaultValue none
   */
  onFailure?: TaskCallback | readonly TaskCallback[];
  /** Called after a failed try that will be retried (Airflow's `on_retry_callback`). @defaultValue none */
  onRetry?: TaskCallback | readonly TaskCallback[];
  /**
   * Called after the task skipped itself by throwing `SkipTaskError` (Airflow's `on_skipped_callback`);
   * not for tasks skipped by a branch or trigger rule.
   * @defaultValue none
   */
  onSkipped?: TaskCallback | readonly TaskCallback[];
}

/** Executors a task can choose with its `executor` option. */
export const EXECUTOR_NAMES = ['local', 'thread', 'kubernetes'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** Task options with every default applied and durations in milliseconds. */
export interface ResolvedTaskOptions {
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number;
  executionTimeoutMs: number | null;
  triggerRule: TriggerRule;
  pool: string;
  poolSlots: number;
  maxActiveInstances: number | null;
  maxActiveInstancesPerRun: number | null;
  priorityWeight: number;
  weightRule: WeightRule;
  queue: string;
  executor: ExecutorName;
  executorConfig: Record<string, unknown> | null;
}

/** The JSON Schema accepted for DAG params (an object schema; `default`s fill missing values). */
export type ParamsSchema = JSONSchema;

/** `T` without its string index signature, so only declared keys type-check. */
type KnownKeys<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/**
 * The TypeScript type of a DAG's params, derived from its JSON Schema. Only declared properties are
 * typed (a misspelt param name is a compile error), even where the schema allows additional ones.
 */
export type ParamsOf<S> = [S] extends [undefined]
  ? Record<string, unknown>
  : S extends JSONSchema
    ? FromSchema<S> extends infer T
      ? T extends Record<string, unknown>
        ? KnownKeys<T>
        : Record<string, unknown>
      : never
    : Record<string, unknown>;

/**
 * Fixed-length data intervals from the DAG's `startDate`: `[startDate + k·every, startDate + (k+1)·every)`.
 * Lengths are exact durations (`'1d'` is 24 hours, also across a DST change; use cron for wall-clock times).
 */
export interface IntervalSchedule {
  every: Duration;
}

/**
 * Data-aware scheduling: a run (type `asset_triggered`) once every named asset has been updated by a
 * successful task (one that lists it in `outlets`) since the DAG's previous asset-triggered run. A list
 * means all of them; `{ any: [...] }` and `{ all: [...] }` nest for Airflow's `a | b` and `a & b`.
 */
export interface AssetSchedule {
  assets: readonly AssetConditionInput[] | { readonly all: readonly AssetConditionInput[] } | { readonly any: readonly AssetConditionInput[] };
}

/** When a DAG's runs are created: see {@link DagOptions.schedule}. */
export type Schedule = string | IntervalSchedule | AssetSchedule | null;

/**
 * The stored form of a {@link Schedule}: cron or preset text, `every` in milliseconds, asset URIs (all
 * of them), or a normalized asset condition.
 */
export type SerializedSchedule = string | { every: number } | { assets: string[] | Exclude<AssetCondition, string> } | null;

/** Options of a DAG. */
export interface DagOptions<S extends ParamsSchema | undefined = ParamsSchema | undefined> {
  /** Unique DAG id: letters, digits, `_`, `-` and `.`. */
  id: string;
  /** One-line description shown in lists. */
  description?: string;
  /** Longer documentation (Markdown) shown on the DAG page. */
  docs?: string;
  /**
   * When runs are created: a cron expression (5 or 6 fields, seconds first), a preset (`@hourly`,
   * `@daily`, `@weekly`, `@monthly`, `@quarterly`, `@yearly`, `@once`, `@continuous`), a fixed
   * interval (`{ every: '30m' }`), assets (`{ assets: ['s3://bucket/listings'] }`), or null for
   * manual runs only.
   * @defaultValue null
   */
  schedule?: Schedule;
  /**
   * First data interval start; required with a schedule. A string is read as ISO 8601 in `timezone`.
   */
  startDate?: Date | string;
  /** No scheduled run starts (has a logical date) after this. A string is read as ISO 8601 in `timezone`. */
  endDate?: Date | string;
  /**
   * IANA time zone the schedule is evaluated in.
   * @defaultValue `'UTC'`
   */
  timezone?: string;
  /**
   * Create runs for every interval missed since the last run (or `startDate`), not just the latest.
   * @defaultValue false
   */
  catchup?: boolean;
  /** Labels for filtering. */
  tags?: readonly string[];
  /**
   * Start paused when the DAG is first seen (Airflow's `is_paused_upon_creation`); later parses leave
   * the pause state to operators.
   * @defaultValue false
   */
  pausedOnCreation?: boolean;
  /** JSON Schema of the params a run accepts; `default`s apply when a trigger leaves them out. */
  params?: S;
  /** Options applied to every task that does not set them. */
  defaultTaskOptions?: TaskOptions;
  /**
   * Most runs of this DAG in the running state at once; further runs wait queued. Runs of a backfill
   * count against the backfill's own limit instead. `@continuous` requires 1.
   * @defaultValue 16 (1 with `@continuous`)
   */
  maxActiveRuns?: number;
  /**
   * Most task instances of this DAG queued or running at once, across its runs.
   * @defaultValue 16
   */
  maxActiveTasks?: number;
  /**
   * Called once when a run finished `success` (Airflow's DAG `on_success_callback`), in the process that
   * settled the run; a throw is logged and changes nothing.
   * @defaultValue none
   */
  onSuccess?: DagRunCallback | readonly DagRunCallback[];
  /** Called once when a run finished `failed` (Airflow's DAG `on_failure_callback`). @defaultValue none */
  onFailure?: DagRunCallback | readonly DagRunCallback[];
  /**
   * A deadline alert: `callback` runs once (by a scheduler) when a run has not finished `after` its
   * reference time. Test runs have none; backfill runs only with `reference: 'queuedAt'`.
   * @defaultValue none
   */
  deadline?: DeadlineOptions;
}

export type { AssetEventInfo, DataInterval, OutletEvent, OutletEvents, RunType, TaskContext, TaskFunction, TaskLogger } from './context-types.js';

/** A reference to a task of a DAG; pass it in another task's `upstream` to depend on it. */
export interface TaskRef<Id extends string = string, R = unknown> {
  readonly id: Id;
  readonly dagId: string;
  /** @internal Carries the result type; never set at run time. */
  readonly __result?: R;
}

/**
 * A reference to a task group; as an upstream it stands for the group's leaves (its tasks with no
 * downstream task inside the group).
 */
export interface GroupRef<Id extends string = string> {
  readonly id: Id;
  readonly dagId: string;
  readonly kind: 'group';
}

/** An upstream given by reference (typed), as a whole group, or by id (checked when the DAG is validated). */
export type UpstreamRef = TaskRef<string, unknown> | GroupRef | string;

type UpstreamId<K> = K extends GroupRef ? never : K extends TaskRef<infer I, unknown> ? I : K extends string ? K : never;
type UpstreamResult<K> = K extends TaskRef<string, infer R> ? Awaited<R> : unknown;

/** The `upstream` object a task receives: each upstream task's result by id. */
export type UpstreamResults<U extends readonly UpstreamRef[]> = {
  readonly [K in U[number] as UpstreamId<K>]: UpstreamResult<K>;
};

/** A task implemented by a plugin operator; built by an operator factory in a DAG file. */
export interface OperatorSpec<R = unknown> {
  /** Operator name, `<plugin>.<operator>`. */
  readonly operator: string;
  /** npm package that implements it, imported by the worker. */
  readonly plugin?: string;
  /** JSON-serializable arguments; strings in them are templates rendered when the task runs. */
  readonly args: unknown;
  /**
   * `'sensor'` when the implementation is a poke: it returns whether its condition is met and is
   * called again until it is (see {@link SensorOptions}).
   */
  readonly kind?: 'sensor';
  /** @internal Carries the result type. */
  readonly __result?: R;
}

/** A teardown task's settings (Airflow's `as_teardown(setups=…, on_failure_fail_dagrun=…)`). */
export interface TeardownOptions {
  /** The setup tasks whose resources this teardown releases; they become its upstream tasks. */
  setups?: readonly UpstreamRef[];
  /**
   * Let a failure of this teardown fail the run; by default a run's outcome ignores its teardowns.
   * @defaultValue false
   */
  failRunOnFailure?: boolean;
}

/** Options of one task: the task options plus its upstream dependencies and arguments. */
export interface TaskDefinitionOptions<U extends readonly UpstreamRef[] = readonly UpstreamRef[], A = Record<string, unknown>>
  extends TaskOptions {
  /** Tasks (or whole groups) that must finish (per the trigger rule) before this one starts. */
  upstream?: U;
  /** Documentation shown on the task page. */
  docs?: string;
  /**
   * Arguments of a function task, received as `ctx.args`: JSON values whose strings are templates
   * (`'{{ ds }}'`, `'{{ params.county }}'`, `'{{ upstream.extract.count }}'`) rendered when it runs.
   * For a mapped task these are the fixed arguments every instance shares (Airflow's `partial()`).
   */
  args?: A;
  /**
   * Map the task: one instance per element of each list (Airflow's `expand()`). Values are literal
   * lists or upstream tasks returning lists (they become upstream tasks). Downstream tasks receive
   * the list of the instances' results.
   */
  expand?: ExpandInput;
  /**
   * Most instances this mapped task may expand into; more fails the task.
   * @defaultValue the engine's `maxMapLength` (1024)
   */
  maxMapLength?: number;
  /** How a sensor waits (only for sensors: `Dag.sensor()` or a sensor operator). */
  sensor?: SensorOptions;
  /**
   * Mark the task as a setup task: it creates a resource that teardown tasks release. Clearing a task
   * also clears the setups it needs and their teardowns.
   * @defaultValue false
   */
  setup?: boolean;
  /**
   * Assets this task updates (Airflow's `outlets`): when a try succeeds, an asset event is recorded for
   * each URI (in the transaction that marks it successful), and DAGs scheduled on the asset run once
   * their condition holds.
   * @defaultValue []
   */
  outlets?: readonly string[];
  /**
   * Mark the task as a teardown: it runs when its upstream tasks are done (even failed) and a setup
   * succeeded (trigger rule `all_done_setup_success`), and its failure does not fail the run unless
   * `failRunOnFailure` is set.
   * @defaultValue false
   */
  teardown?: boolean | TeardownOptions;
}

export type { SerializedDag, SerializedFlow, SerializedTask } from './serialized-types.js';
