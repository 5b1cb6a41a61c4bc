import { isAbsolute, join } from 'node:path';
import { SkipTaskError, TributaryError } from '../errors.js';
import type { Executor, TaskExecution } from './executor.js';
import type { LocalExecutor } from './local-executor.js';
import { TaskThread, TaskThreadEndedError } from './task-thread.js';
import { CLONED_CONTEXT_KEYS, type ClonedTaskContext, type ThreadError } from './task-thread-protocol.js';

/** Options of {@link ThreadExecutor}. */
export interface ThreadExecutorConfig {
  /**
   * Heap limit of each task's thread, in MB; a task's `executorConfig.memoryLimitMb` overrides it.
   * A task that exceeds it fails (and is retried if it can be); the worker carries on.
   * @defaultValue 1024
   */
  memoryLimitMb: number;
  /**
   * After a timeout or kill aborts a task's signal, how long its thread may take to end the task
   * before the thread is stopped (which also stops a task stuck in synchronous code).
   * @defaultValue 5000
   */
  killGraceMs: number;
}

/** Defaults of {@link ThreadExecutorConfig}. */
export const DEFAULT_THREAD_EXECUTOR_CONFIG: Readonly<ThreadExecutorConfig> = Object.freeze({ memoryLimitMb: 1024, killGraceMs: 5_000 });

/** A task's error as it crossed back from its thread, rebuilt (a skip stays a skip). */
function rebuild(error: ThreadError): Error {
  if (error.skip) return new SkipTaskError(error.message);
  const rebuilt = Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

/**
 * Runs each task function in a worker thread of its own heap and event loop (`executor: 'thread'`):
 * a task that blocks the event loop or leaks memory cannot starve the worker, whose heartbeats go on.
 * A timeout or kill aborts the task's signal and, if the task does not end within `killGraceMs`,
 * stops its thread; a task over its heap limit fails with `TASK_OUT_OF_MEMORY`. Threads are kept warm
 * between tasks (DAG files stay imported); operators run in the worker as with `local`.
 */
export class ThreadExecutor implements Executor {
  readonly name = 'thread';
  readonly #projectDir: string;
  readonly #local: LocalExecutor;
  readonly #config: ThreadExecutorConfig;
  readonly #idle: TaskThread[] = [];
  readonly #all = new Set<TaskThread>();
  #nextId = 0;

  constructor(projectDir: string, local: LocalExecutor, config: Partial<ThreadExecutorConfig> = {}) {
    this.#projectDir = projectDir;
    this.#local = local;
    this.#config = { ...DEFAULT_THREAD_EXECUTOR_CONFIG, ...config };
  }

  async execute(execution: TaskExecution): Promise<unknown> {
    const { task, dagId, file, context, log } = execution;
    if (task.kind === 'operator') return this.#local.execute(execution);
    const where = `DAG '${dagId}': task '${task.taskId}'`;
    if (!file) throw new TributaryError('TASK_CODE_MISSING', `${where} has no DAG file to load its function from`);
    const memoryLimitMb = Number((task.executorConfig as { memoryLimitMb?: number } | null)?.memoryLimitMb ?? this.#config.memoryLimitMb);
    const thread = this.#take(memoryLimitMb);
    const startProblem = await thread.started;
    if (startProblem) throw new TributaryError('TASK_THREAD_ENDED', `${where}: its thread could not start: ${startProblem}`);
    const id = ++this.#nextId;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      thread.abort(id, context.signal.reason as Error);
      killTimer = setTimeout(
        () => thread.stop('TASK_STOPPED', `was still running ${this.#config.killGraceMs} ms after it was told to stop; its thread was stopped`),
        this.#config.killGraceMs,
      );
    };
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const outcome = await thread.run(
        {
          type: 'run',
          id,
          file: isAbsolute(file) ? file : join(this.#projectDir, file),
          outlets: task.outlets ?? [],
          context: Object.fromEntries(CLONED_CONTEXT_KEYS.map((key) => [key, context[key]])) as ClonedTaskContext,
        },
        log,
      );
      for (const [uri, extra] of Object.entries(outcome.outletExtras)) context.outletEvents.get(uri).extra = extra;
      return outcome.value;
    } catch (error) {
      if (error instanceof TaskThreadEndedError) throw new TributaryError(error.code, `${where} ${error.message}`, { location: { dagId, taskId: task.taskId } });
      throw rebuild(error as ThreadError);
    } finally {
      clearTimeout(killTimer);
      context.signal.removeEventListener('abort', onAbort);
      // A thread whose task was stopped may still be running it: it is not given another.
      if (!thread.ended && !thread.busy && !context.signal.aborted) this.#idle.push(thread);
      else if (!thread.ended) thread.stop('TASK_STOPPED', 'was stopped');
    }
  }

  /** Stop every thread. */
  async close(): Promise<void> {
    for (const thread of this.#all) thread.stop('WORKER_SHUTDOWN', 'was stopped: the worker is shutting down');
    this.#idle.length = 0;
  }

  #take(memoryLimitMb: number): TaskThread {
    const index = this.#idle.findIndex((t) => t.memoryLimitMb === memoryLimitMb && !t.ended);
    if (index >= 0) return this.#idle.splice(index, 1)[0]!;
    const thread = new TaskThread({
      projectDir: this.#projectDir,
      memoryLimitMb,
      onEnd: (ended) => {
        this.#all.delete(ended);
        const at = this.#idle.indexOf(ended);
        if (at >= 0) this.#idle.splice(at, 1);
      },
    });
    this.#all.add(thread);
    return thread;
  }
}
