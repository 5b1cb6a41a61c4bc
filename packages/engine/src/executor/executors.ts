import type { SerializedTask } from '../dag/types.js';
import { TributaryError } from '../errors.js';
import type { Executor } from './executor.js';

/** Hints for configuring an executor a task asked for but this process does not have. */
const SETUP_HINTS: Record<string, string> = {
  kubernetes: 'configure it with kubernetes.image (or TRIBUTARY_K8S_IMAGE) and a cluster connection, see docs/executors.md',
};

/**
 * The executors a worker can use, by name; each task instance goes to the one its `executor` option
 * names (`local` by default).
 */
export class Executors {
  readonly #byName: ReadonlyMap<string, Executor>;
  readonly #forced: Executor | null;

  /** @param forced - run every task with this executor, whatever it asks for (a pod running one task). */
  constructor(executors: readonly Executor[], forced: Executor | null = null) {
    this.#byName = new Map(executors.map((e) => [e.name, e]));
    this.#forced = forced;
  }

  /** Close every executor that holds something (threads). */
  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((executor) => executor.close?.()));
  }

  /** Names of the executors available. */
  get names(): string[] {
    return [...this.#byName.keys()];
  }

  /** The executor for a task; throws naming the task when its executor is not available here. */
  select(task: SerializedTask, dagId: string): Executor {
    if (this.#forced) return this.#forced;
    const name = task.executor ?? 'local';
    const executor = this.#byName.get(name);
    if (!executor) {
      throw new TributaryError(
        'EXECUTOR_UNAVAILABLE',
        `DAG '${dagId}': task '${task.taskId}' runs with the '${name}' executor, which this worker does not have` +
          `${SETUP_HINTS[name] ? `: ${SETUP_HINTS[name]}` : ''} (available: ${this.names.join(', ')})`,
        { location: { dagId, taskId: task.taskId, field: 'executor' } },
      );
    }
    return executor;
  }
}
