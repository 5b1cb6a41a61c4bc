import { Worker } from 'node:worker_threads';
import type { DagFileRef } from './discover.js';
import type { FileParseResult, ParseMessage, ParseRequest } from './parse-protocol.js';
import { ownExtension, threadBootstrapUrl } from './typescript-loader.js';

/** How a {@link ParseThread} is started. @internal */
export interface ParseThreadOptions {
  /** Heap limit of the thread, in MB. */
  memoryLimitMb: number;
  /** Longest each file may take to import. */
  timeoutMs: number;
  onOutput?: (file: string | null, line: string) => void;
  /** Called once when the thread has ended, for whatever reason. */
  onEnd?: (thread: ParseThread) => void;
}

/**
 * Young generation of a parse thread, in MB. V8 sizes it from the heap limit otherwise, and a thread
 * importing a 10,000-task DAG grew its heap to ~200 MB; the pages of an ended thread stay resident
 * in the process (V8 pools them for ~8 s), so a scheduler parsing its DAGs carried them into its
 * runs. With this the same import peaks at ~75 MB, at no measurable cost in parse time.
 */
const PARSE_YOUNG_GENERATION_MB = 16;

/** Shortest time a thread is given to start (load the TypeScript loader and the engine). */
const MIN_START_LIMIT_MS = 60_000;

let bootstrap: URL | undefined;

/** A module that registers tsx in the new thread, then runs the parse worker. */
function bootstrapUrl(): URL {
  bootstrap ??= threadBootstrapUrl(new URL(`./parse-worker${ownExtension()}`, import.meta.url));
  return bootstrap;
}

/** A failed result for a file that never reported one. @internal */
export function failedResult(file: DagFileRef, message: string, durationMs: number): FileParseResult {
  return { file, durationMs, contentHash: null, source: null, dags: [], error: { message, stack: null } };
}

/**
 * One DAG-parsing worker thread. It starts by loading the TypeScript loader and the engine (the
 * part every DAG file shares), then imports the files it is given, one at a time. A file that
 * hangs, exhausts the heap, crashes the thread or ends it with `process.exit()` ends the thread and
 * becomes that file's failed result.
 * @internal
 */
export class ParseThread {
  /** Resolves with null once the thread can take files, or with why it ended before that. */
  readonly started: Promise<string | null>;
  readonly #worker: Worker;
  readonly #options: ParseThreadOptions;
  #current: { file: DagFileRef; startedAt: number; timer: NodeJS.Timeout; done: (result: FileParseResult) => void } | null = null;
  #endReason: string | null = null;
  #markStarted: (reason: string | null) => void = () => {};
  #used = false;

  constructor(options: ParseThreadOptions) {
    this.#options = options;
    this.started = new Promise((resolve) => (this.#markStarted = resolve));
    this.#worker = new Worker(bootstrapUrl(), {
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb, maxYoungGenerationSizeMb: PARSE_YOUNG_GENERATION_MB },
    });
    this.#forward(this.#worker.stdout);
    this.#forward(this.#worker.stderr);
    // Starting runs no DAG file, so this limit only catches a broken runtime; it is generous because
    // a loaded machine may take seconds to load the engine.
    const startLimitMs = Math.max(options.timeoutMs, MIN_START_LIMIT_MS);
    const startTimer = setTimeout(() => this.#end(`did not start within ${startLimitMs} ms`), startLimitMs);
    void this.started.then(() => clearTimeout(startTimer));
    this.#worker.on('message', (message: ParseMessage) => {
      if (message.type === 'ready') return this.#markStarted(null);
      const current = this.#current;
      if (!current || message.result.file.absolute !== current.file.absolute) return;
      clearTimeout(current.timer);
      this.#current = null;
      current.done(message.result);
    });
    this.#worker.on('error', (error: Error) => {
      const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#end(oom ? `import ran out of memory (limit ${options.memoryLimitMb} MB)` : `import crashed: ${error.message}`);
    });
    this.#worker.on('exit', (code) => this.#end(`the file ended the process while loading (process.exit(${code}))`));
  }

  /** True once the thread has ended (crashed, timed out, exited or was terminated). */
  get ended(): boolean {
    return this.#endReason !== null;
  }

  /** True once the thread has been given a file: its module cache then holds DAG files' modules. */
  get used(): boolean {
    return this.#used;
  }

  /**
   * Import one file and report its DAGs. Never rejects: a file that ends the thread (or runs past
   * the time limit, which ends it too) resolves as that file's failed result.
   */
  parse(file: DagFileRef): Promise<FileParseResult> {
    if (this.#current) throw new Error('a parse thread imports one file at a time');
    if (this.#endReason !== null) return Promise.resolve(failedResult(file, `import crashed: ${this.#endReason}`, 0));
    this.#used = true;
    return new Promise((done) => {
      const timeoutMs = this.#options.timeoutMs;
      const timer = setTimeout(
        () => this.#end(`import timed out after ${timeoutMs} ms (the file, or something it imports, does not finish loading)`),
        timeoutMs,
      );
      this.#current = { file, startedAt: performance.now(), timer, done };
      this.#worker.postMessage({ type: 'parse', file } satisfies ParseRequest);
    });
  }

  /** End the thread. */
  async terminate(): Promise<void> {
    this.#end('terminated');
    await this.#worker.terminate();
  }

  #end(reason: string): void {
    if (this.#endReason !== null) return;
    this.#endReason = reason;
    this.#markStarted(reason);
    const current = this.#current;
    this.#current = null;
    if (current) {
      clearTimeout(current.timer);
      current.done(failedResult(current.file, reason, performance.now() - current.startedAt));
    }
    void this.#worker.terminate();
    this.#options.onEnd?.(this);
  }

  #forward(stream: NodeJS.ReadableStream): void {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.#options.onOutput?.(this.#current?.file.relative ?? null, buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    });
  }
}
