import { TributaryError } from '../errors.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { DagBag } from '../processor/dag-bag.js';
import { withTaskConsole } from '../worker/console-capture.js';
import type { Executor, TaskExecution } from './executor.js';

/**
 * Runs tasks in the worker's own process: inline functions from the DAG file (imported once per file
 * version), operators from their plugin. What the task prints goes to its log.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly #dags: DagBag;
  readonly #plugins: PluginRegistry;

  constructor(dags: DagBag, plugins: PluginRegistry) {
    this.#dags = dags;
    this.#plugins = plugins;
  }

  async execute({ task, dagId, file, context, log }: TaskExecution): Promise<unknown> {
    if (task.kind === 'operator') {
      const implementation = await this.#plugins.resolve(task.operator!, task.plugin);
      return withTaskConsole(log, () => implementation(task.args, context));
    }
    if (!file) throw new TributaryError('TASK_CODE_MISSING', `DAG '${dagId}': task '${task.taskId}' has no DAG file to load its function from`);
    const dag = await this.#dags.getDag(file, dagId);
    const definition = dag.tasks.get(task.taskId);
    if (!definition?.fn) {
      throw new TributaryError(
        'TASK_CODE_MISSING',
        `${file}: DAG '${dagId}': task '${task.taskId}' is no longer defined as a function in the file (it changed after this run was created)`,
      );
    }
    const fn = definition.fn;
    return withTaskConsole(log, () => fn(context));
  }
}
