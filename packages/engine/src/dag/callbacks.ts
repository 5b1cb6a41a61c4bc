import type { ErrorInfo } from '../errors.js';
import type { DataInterval, Duration, RunType, TaskLogger } from './types.js';

/** Task callbacks, by what happened (Airflow's `on_success_callback`, `on_failure_callback`, `on_retry_callback`, `on_skipped_callback`). */
export const TASK_CALLBACK_KINDS = ['success', 'failure', 'retry', 'skipped'] as const;
export type TaskCallbackKind = (typeof TASK_CALLBACK_KINDS)[number];

/** DAG-level callbacks, by how the run ended (Airflow's DAG `on_success_callback`, `on_failure_callback`). */
export const DAG_CALLBACK_KINDS = ['success', 'failure'] as const;
export type DagCallbackKind = (typeof DAG_CALLBACK_KINDS)[number];

/** What a deadline is measured from. */
export const DEADLINE_REFERENCES = ['logicalDate', 'dataIntervalEnd', 'queuedAt'] as const;
export type DeadlineReference = (typeof DEADLINE_REFERENCES)[number];

/** What every callback receives about the run. */
interface RunFacts {
  readonly dagId: string;
  readonly runId: string;
  readonly runType: RunType;
  readonly logicalDate: Date;
  readonly dataInterval: DataInterval;
  /** The run's params, validated, with defaults applied. */
  readonly params: Record<string, unknown>;
  /**
   * Lines go to the try's log for a task callback, to the engine's log (with the DAG and run) for a
   * DAG callback.
   */
  readonly log: TaskLogger;
  /** Aborted when the callback runs past the engine's `callbackTimeoutMs`. */
  readonly signal: AbortSignal;
}

/** What a task callback receives: the try that ended and how. */
export interface TaskCallbackContext extends RunFacts {
  readonly kind: TaskCallbackKind;
  readonly taskId: string;
  /** Index within a mapped task, -1 when not mapped. */
  readonly mapIndex: number;
  /** The try that ended. */
  readonly tryNumber: number;
  readonly maxTries: number;
  /** The task instance's state afterwards: `success`, `failed`, `up_for_retry` or `skipped`. */
  readonly state: 'success' | 'failed' | 'up_for_retry' | 'skipped';
  /** Why the try failed (`failure`, `retry`) or skipped itself (`skipped`); null on success. */
  readonly error: ErrorInfo | null;
}

/** A task callback; what it returns or throws changes nothing (a throw is logged). */
export type TaskCallback = (context: TaskCallbackContext) => void | Promise<void>;

/** What a DAG callback receives: the run that ended, or missed its deadline. */
export interface DagRunCallbackContext extends RunFacts {
  readonly kind: DagCallbackKind | 'deadline';
  /** The run's state when the callback was decided (`queued` or `running` for a missed deadline). */
  readonly state: 'queued' | 'running' | 'success' | 'failed';
  /** For `failure`: the task instances that failed or were upstream_failed (`task` or `task[3]`). */
  readonly failedTasks: readonly string[];
  /** For `deadline`: when the run should have finished, and what that was measured from. */
  readonly deadline: { readonly at: Date; readonly reference: DeadlineReference; readonly afterMs: number } | null;
}

/** A DAG callback; what it returns or throws changes nothing (a throw is logged). */
export type DagRunCallback = (context: DagRunCallbackContext) => void | Promise<void>;

/**
 * A deadline alert (Airflow 3's `DeadlineAlert`): `callback` runs once when a run has not finished
 * `after` its `reference` time.
 */
export interface DeadlineOptions {
  /**
   * What the deadline is measured from: the run's logical date (a scheduled run's data interval
   * start), its data interval end (when a scheduled run became due; the trigger time otherwise), or
   * when the run was created (`queuedAt`).
   */
  reference: DeadlineReference;
  /** How long after the reference the run must have finished. */
  after: Duration;
  callback: DagRunCallback;
}

/** The stored form of a deadline (the callback stays in the DAG file). */
export interface SerializedDeadline {
  reference: DeadlineReference;
  afterMs: number;
}

/** A task's callbacks by kind, after defaults; only kinds that have some. @internal */
export type TaskCallbacks = Readonly<Partial<Record<TaskCallbackKind, readonly TaskCallback[]>>>;

/** A DAG's callbacks by kind. @internal */
export type DagCallbacks = Readonly<Partial<Record<DagCallbackKind, readonly DagRunCallback[]>>>;

/** Option names of the task callbacks, by kind. */
export const TASK_CALLBACK_OPTIONS: Readonly<Record<TaskCallbackKind, 'onSuccess' | 'onFailure' | 'onRetry' | 'onSkipped'>> = Object.freeze({
  success: 'onSuccess',
  failure: 'onFailure',
  retry: 'onRetry',
  skipped: 'onSkipped',
});

/** Option names of the DAG callbacks, by kind. */
export const DAG_CALLBACK_OPTIONS: Readonly<Record<DagCallbackKind, 'onSuccess' | 'onFailure'>> = Object.freeze({
  success: 'onSuccess',
  failure: 'onFailure',
});

/**
 * A callback option's value as a list of functions: one function, or an array of them (Airflow
 * accepts both); null and undefined mean none. Returns an error message for anything else.
 * @internal
 */
export function callbackList<F>(value: unknown): readonly F[] | string {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const fn of list) if (typeof fn !== 'function') return `expected a function or an array of functions, got ${fn === null ? 'null' : typeof fn}`;
  return Object.freeze([...list]) as readonly F[];
}

/** The kinds that have callbacks, for the stored form. @internal */
export function callbackKinds<K extends string>(callbacks: Readonly<Partial<Record<K, readonly unknown[]>>>, order: readonly K[]): K[] {
  return order.filter((kind) => (callbacks[kind]?.length ?? 0) > 0);
}
