import { availableParallelism } from 'node:os';
import type { DagFileRef } from './discover.js';
import type { FileParseResult } from './parse-protocol.js';
import { failedResult, ParseThread } from './parse-thread.js';

/** Options of {@link parseDagFiles}. */
export interface ParseOptions {
  /**
   * Longest a single file may take to import before it is recorded as an import error.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /**
   * Worker threads importing files in parallel.
   * @defaultValue the number of CPUs, at most 8
   */
  threads?: number;
  /**
   * Heap limit of each parsing thread, in MB; a file exceeding it becomes an import error.
   * @defaultValue 1024
   */
  memoryLimitMb?: number;
  /** Receives what DAG files print while being imported. */
  onOutput?: (file: string | null, line: string) => void;
}

/** Defaults of {@link ParseOptions}. */
export const DEFAULT_PARSE_TIMEOUT_MS = 30_000;
const DEFAULT_MEMORY_LIMIT_MB = 1024;

/**
 * Worker threads that import DAG files. Each pass runs on threads that have imported no DAG file
 * before: a thread loads the TypeScript loader and the engine when it starts, imports the pass's
 * files, and is discarded when the pass ends, so edited files and the helper modules they import
 * are always read afresh. What a pool keeps between passes is threads that have only started
 * (see {@link ParsePool.warmUp}), so a pass need not wait for threads to start.
 * @internal
 */
export class ParsePool {
  readonly #threads: number;
  readonly #timeoutMs: number;
  readonly #memoryLimitMb: number;
  readonly #onOutput: ParseOptions['onOutput'];
  /** Started threads that have imported nothing yet, oldest first. */
  #idle: ParseThread[] = [];
  readonly #live = new Set<ParseThread>();
  /** Bumped by {@link ParsePool.close}: passes started before it stop taking files. */
  #generation = 0;

  constructor(options: ParseOptions = {}) {
    this.#threads = Math.max(1, options.threads ?? Math.min(availableParallelism(), 8));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
    this.#memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    this.#onOutput = options.onOutput;
  }

  /**
   * Start threads until as many idle ones as a pass uses are waiting; resolves once they can take
   * files. Idle threads cost memory (the engine's modules, tens of MB each), so a pool keeps them
   * only when asked to: a DAG processor does while watching, where an edit should load in
   * milliseconds rather than after a thread start.
   */
  async warmUp(): Promise<void> {
    while (this.#idle.length < this.#threads) this.#idle.push(this.#spawn());
    await Promise.all(this.#idle.map((thread) => thread.started));
  }

  /**
   * Import each file in a worker thread and serialize the DAGs it exports. Each file is isolated:
   * one that throws, fails to compile, runs past the time limit, exhausts memory or calls
   * `process.exit()` yields an error result for that file alone (its thread is replaced) and the
   * others carry on. Results are in the order of `files`; `onResult` receives each as it arrives,
   * with its index in `files`.
   */
  async parse(files: readonly DagFileRef[], onResult?: (result: FileParseResult, index: number) => void): Promise<FileParseResult[]> {
    const generation = this.#generation;
    const stopped = (): boolean => generation !== this.#generation;
    const results = new Map<string, FileParseResult>();
    const indexOf = new Map(files.map((file, index) => [file.absolute, index]));
    const record = (file: DagFileRef, result: FileParseResult): void => {
      results.set(file.absolute, result);
      onResult?.(result, indexOf.get(file.absolute)!);
    };
    const pending = [...files];
    const lane = async (): Promise<void> => {
      let thread: ParseThread | null = null;
      while (pending.length > 0 && !stopped()) {
        thread ??= this.#idle.shift() ?? this.#spawn();
        const failedToStart = await thread.started;
        const file = pending.shift();
        if (!file) break;
        if (failedToStart !== null) {
          // Starting runs no DAG file, so a thread that cannot start means the runtime is broken
          // (tsx or the engine cannot load): every file left fails with the reason, rather than
          // threads being restarted for ever.
          for (const left of [file, ...pending.splice(0)]) {
            record(left, failedResult(left, `the parse thread failed to start: ${failedToStart}`, 0));
          }
          thread = null;
          break;
        }
        record(file, await thread.parse(file));
        if (thread.ended) thread = null;
      }
      if (!thread) return;
      if (thread.used || stopped()) void thread.terminate();
      else this.#idle.unshift(thread);
    };
    await Promise.all(Array.from({ length: Math.min(this.#threads, files.length) }, lane));
    return files.map((file) => results.get(file.absolute) ?? failedResult(file, 'was not parsed (parser stopped)', 0));
  }

  /** End every thread; a pass in progress stops. The pool starts new threads if used again. */
  async close(): Promise<void> {
    this.#generation++;
    this.#idle = [];
    await Promise.all([...this.#live].map((thread) => thread.terminate()));
  }

  #spawn(): ParseThread {
    const thread = new ParseThread({
      memoryLimitMb: this.#memoryLimitMb,
      timeoutMs: this.#timeoutMs,
      onOutput: this.#onOutput,
      onEnd: (ended) => {
        this.#live.delete(ended);
        this.#idle = this.#idle.filter((t) => t !== ended);
      },
    });
    this.#live.add(thread);
    return thread;
  }
}

/**
 * Import DAG files in worker threads and serialize the DAGs they export. Each file is isolated: one
 * that throws, fails to compile, runs past the time limit, exhausts memory or calls `process.exit()`
 * yields an error result for that file alone (its thread is replaced) and the others carry on.
 * Threads are fresh for every call, so edited files and their imports are always re-read.
 */
export async function parseDagFiles(files: readonly DagFileRef[], options: ParseOptions = {}): Promise<FileParseResult[]> {
  const pool = new ParsePool(options);
  try {
    return await pool.parse(files);
  } finally {
    await pool.close();
  }
}
