import type { SerializedTask, TaskContext } from '../dag/types.js';
import type { TaskLogWriter } from '../worker/task-log.js';

/** Everything an executor needs to run one try of a task instance. */
export interface TaskExecution {
  readonly task: SerializedTask;
  readonly dagId: string;
  /** The task instance's id in the metadata database. */
  readonly taskInstanceId: number;
  /** The DAG file, relative to the project directory. */
  readonly file: string | null;
  readonly context: TaskContext;
  /** The try's log, for output the task prints. */
  readonly log: TaskLogWriter;
}

/**
 * Resolved by an executor whose task records its own outcome (a pod running `tributary tasks run`):
 * the worker then records nothing for the try.
 */
export const OUTCOME_RECORDED: unique symbol = Symbol('tributary.outcomeRecorded');

/** Decides where a task's code runs (this process, a child process, a Kubernetes pod) and runs it. */
export interface Executor {
  /** Recorded on the task instance. */
  readonly name: string;
  /**
   * The task's own process records its outcome, heart-beats and enforces its timeout; the executor
   * resolves {@link OUTCOME_RECORDED} (or rejects when that process failed before reporting) and
   * handles `context.signal` itself, including settling promptly after it aborts.
   * @defaultValue false
   */
  readonly recordsOwnOutcome?: boolean;
  /** Run the task; resolve with its result, reject with its error. Must honour `context.signal`. */
  execute(execution: TaskExecution): Promise<unknown>;
  /** Release what the executor holds (threads); called when its worker stops. */
  close?(): Promise<void>;
}
