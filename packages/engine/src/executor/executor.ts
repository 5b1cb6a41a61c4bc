import type { SerializedTask, TaskContext } from '../dag/types.js';
import type { TaskLogWriter } from '../worker/task-log.js';

/** Everything an executor needs to run one try of a task instance. */
export interface TaskExecution {
  readonly task: SerializedTask;
  readonly dagId: string;
  /** The DAG file, relative to the project directory. */
  readonly file: string | null;
  readonly context: TaskContext;
  /** The try's log, for output the task prints. */
  readonly log: TaskLogWriter;
}

/** Decides where a task's code runs (this process, a child process, a Kubernetes pod) and runs it. */
export interface Executor {
  /** Recorded on the task instance. */
  readonly name: string;
  /** Run the task; resolve with its result, reject with its error. Must honour `context.signal`. */
  execute(execution: TaskExecution): Promise<unknown>;
}
