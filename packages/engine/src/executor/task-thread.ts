import { Worker } from 'node:worker_threads';
import { ownExtension, threadBootstrapUrl } from '../processor/typescript-loader.js';
import type { LogLineSink } from '../worker/task-log.js';
import type { ThreadError, ThreadMessage, ThreadRunRequest } from './task-thread-protocol.js';

let bootstrap: URL | undefined;

/** What a task run in a thread returned. @internal */
export interface ThreadOutcome {
  value: unknown;
  outletExtras: Record<string, Record<string, unknown>>;
}

/** Why a thread ended while running a task, as an error with a code the runner records. @internal */
export class TaskThreadEndedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TaskThreadEndedError';
    this.code = code;
  }
}

interface Running {
  id: number;
  log: LogLineSink;
  resolve: (outcome: ThreadOutcome) => void;
  reject: (error: Error | ThreadError) => void;
}

/**
 * One worker thread of the `thread` executor, with its own heap limit and event loop: a task that
 * blocks its event loop or leaks memory stops only this thread, never the worker's heartbeats.
 * Runs one task at a time; a thread whose task was stopped is ended, not reused.
 * @internal
 */
export class TaskThread {
  /** Resolves with null once the thread can run tasks, or with why it ended before that. */
  readonly started: Promise<string | null>;
  readonly memoryLimitMb: number;
  readonly #worker: Worker;
  #running: Running | null = null;
  #endReason: string | null = null;
  #markStarted: (reason: string | null) => void = () => {};
  readonly #onEnd: (thread: TaskThread) => void;

  constructor(options: { projectDir: string; memoryLimitMb: number; onEnd: (thread: TaskThread) => void }) {
    this.memoryLimitMb = options.memoryLimitMb;
    this.#onEnd = options.onEnd;
    this.started = new Promise((resolve) => (this.#markStarted = resolve));
    bootstrap ??= threadBootstrapUrl(new URL(`./task-thread-worker${ownExtension()}`, import.meta.url));
    this.#worker = new Worker(bootstrap, {
      workerData: { projectDir: options.projectDir },
      resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb },
    });
    this.#worker.on('message', (message: ThreadMessage) => this.#receive(message));
    this.#worker.on('error', (error: Error) => {
      const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#end(
        oom ? 'TASK_OUT_OF_MEMORY' : 'TASK_THREAD_CRASHED',
        oom ? `ran out of memory (the thread's heap limit is ${options.memoryLimitMb} MB) and its thread was stopped` : `crashed its thread: ${error.message}`,
      );
    });
    this.#worker.on('exit', (code) => this.#end('TASK_THREAD_EXITED', `ended its thread (process.exit(${code}) or a fatal error)`));
  }

  /** True while a task runs here. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /** True once the thread has ended. */
  get ended(): boolean {
    return this.#endReason !== null;
  }

  /** Run one task; rejects with the task's error (as it crossed back) or a {@link TaskThreadEndedError}. */
  run(request: ThreadRunRequest, log: LogLineSink): Promise<ThreadOutcome> {
    if (this.#running) throw new Error('a task thread runs one task at a time');
    if (this.#endReason !== null) return Promise.reject(new TaskThreadEndedError('TASK_THREAD_ENDED', this.#endReason));
    return new Promise((resolve, reject) => {
      this.#running = { id: request.id, log, resolve, reject };
      this.#worker.postMessage(request);
    });
  }

  /** Abort the signal of try `id` in the thread (the task should settle soon). */
  abort(id: number, reason: Error): void {
    if (this.#running?.id === id) this.#worker.postMessage({ type: 'abort', id, reason: { name: reason.name, message: reason.message } });
  }

  /** End the thread now, even in the middle of synchronous code; a running task rejects with `message`. */
  stop(code: string, message: string): void {
    this.#end(code, message);
  }

  #receive(message: ThreadMessage): void {
    if (message.type === 'ready') return this.#markStarted(null);
    const running = this.#running;
    if (!running || message.id !== running.id) return;
    if (message.type === 'log') return running.log.write(message.level, message.message, message.at);
    this.#running = null;
    if (message.type === 'result') running.resolve({ value: message.value, outletExtras: message.outletExtras });
    else running.reject(message.error);
  }

  #end(code: string, message: string): void {
    if (this.#endReason !== null) return;
    this.#endReason = message;
    this.#markStarted(message);
    const running = this.#running;
    this.#running = null;
    running?.reject(new TaskThreadEndedError(code, message));
    void this.#worker.terminate();
    this.#onEnd(this);
  }
}
