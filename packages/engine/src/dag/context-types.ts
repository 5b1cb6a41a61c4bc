/** What a running task receives: its context, logger, outlet events. Re-exported by `types.ts`. */

/** Logger handed to a task; lines go to the try's log. Same call shapes as pino. */
export interface TaskLogger {
  debug(message: string): void;
  debug(fields: Record<string, unknown>, message?: string): void;
  info(message: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(message: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(message: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

/** Kinds of run. */
export type RunType = 'scheduled' | 'manual' | 'backfill' | 'asset_triggered' | 'test';

/** A half-open time interval `[start, end)`. */
export interface DataInterval {
  start: Date;
  end: Date;
}

/** What a task function receives. */
export interface TaskContext<P = Record<string, unknown>, U = Record<string, unknown>, A = Record<string, unknown>> {
  readonly dagId: string;
  readonly runId: string;
  readonly runType: RunType;
  readonly taskId: string;
  /** Index within a mapped task, -1 when not mapped. */
  readonly mapIndex: number;
  /** 1 for the first try. */
  readonly tryNumber: number;
  /** Total tries allowed: `retries + 1`. */
  readonly maxTries: number;
  /** The run's logical date: its data interval start for scheduled runs, the trigger time otherwise. */
  readonly logicalDate: Date;
  readonly dataInterval: DataInterval;
  /** The run's params, validated, with defaults applied. */
  readonly params: P;
  /**
   * Results of the upstream tasks, by task id. A mapped upstream task's result is the list of its
   * instances' results, in map-index order.
   */
  readonly upstream: U;
  /**
   * The task's arguments, templates rendered: its `args` (Airflow's `partial()`), plus, for an
   * instance of a mapped task, its element of each `expand` input. `{}` when the task has none.
   */
  readonly args: A;
  readonly log: TaskLogger;
  /** Aborted on timeout, on a kill from an operator and on worker shutdown. */
  readonly signal: AbortSignal;
  /**
   * The events this try records for the task's `outlets` when it succeeds (Airflow's `outlet_events`):
   * `ctx.outletEvents.get(uri).extra = { rows: 10 }` attaches JSON to the event.
   */
  readonly outletEvents: OutletEvents;
  /**
   * In an `asset_triggered` run, the asset events that triggered it, by asset URI (oldest first);
   * `{}` in other runs (Airflow's `triggering_asset_events`).
   */
  readonly triggeringAssetEvents: Readonly<Record<string, readonly AssetEventInfo[]>>;
}

/** The asset events a try will record on success, one per outlet. */
export interface OutletEvents {
  /** The event for outlet `uri`; throws naming the task's outlets when it has no such outlet. */
  get(uri: string): OutletEvent;
}

/** One outlet's event, before it is recorded. */
export interface OutletEvent {
  readonly uri: string;
  /** JSON attached to the event (stored with it, shown by `tributary assets events`). */
  extra: Record<string, unknown>;
}

/** A recorded asset event. */
export interface AssetEventInfo {
  readonly id: number;
  readonly uri: string;
  readonly extra: Readonly<Record<string, unknown>>;
  /** The task instance that produced it; null fields for an event created by hand. */
  readonly source: { readonly dagId: string | null; readonly runId: string | null; readonly taskId: string | null; readonly mapIndex: number | null };
  readonly createdAt: Date;
}

/** The function of an inline task. Its return value (JSON-serializable) is the task's result. */
export type TaskFunction<P, U, R, A = Record<string, unknown>> = (context: TaskContext<P, U, A>) => R | Promise<R>;
