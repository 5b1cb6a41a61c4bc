import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { DagFileRef } from './discover.js';
import type { FileParseResult, ParseMessage, ParseRequest } from './parse-protocol.js';
import { ownExtension, tsxApiUrl } from './typescript-loader.js';

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

function bootstrapUrl(): URL {
  const worker = new URL(`./parse-worker${ownExtension()}`, import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(tsxApiUrl())};\nregister();\nawait import(${JSON.stringify(worker)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/**
 * Import DAG files in worker threads and serialize the DAGs they export. Each file is isolated: one
 * that throws, fails to compile, runs past the time limit, exhausts memory or calls `process.exit()`
 * yields an error result for that file alone (its thread is replaced) and the others carry on.
 * Threads are fresh for every call, so edited files and their imports are always re-read.
 */
export async function parseDagFiles(files: readonly DagFileRef[], options: ParseOptions = {}): Promise<FileParseResult[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(availableParallelism(), 8), files.length));
  const results = new Map<string, FileParseResult>();
  const pending = [...files];
  const url = bootstrapUrl();

  const failed = (file: DagFileRef, message: string, durationMs: number): FileParseResult => ({
    file,
    durationMs,
    contentHash: null,
    source: null,
    dags: [],
    error: { message, stack: null },
  });

  const runThread = (): Promise<void> =>
    new Promise((resolve) => {
      let current: DagFileRef | null = null;
      let startedAt = 0;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const worker = new Worker(url, {
        stdout: true,
        stderr: true,
        resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb ?? 1024 },
      });
      const forward = (stream: NodeJS.ReadableStream): void => {
        let buffer = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            options.onOutput?.(current?.relative ?? null, buffer.slice(0, newline));
            buffer = buffer.slice(newline + 1);
          }
        });
      };
      forward(worker.stdout);
      forward(worker.stderr);

      // Ends this thread; when a file was in flight, record why and let a fresh thread continue.
      const finish = (reason: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (current && reason) results.set(current.absolute, failed(current, reason, performance.now() - startedAt));
        void worker.terminate().finally(() => {
          if (reason && pending.length > 0) void runThread().then(resolve);
          else resolve();
        });
      };
      const next = (): void => {
        current = pending.shift() ?? null;
        if (!current) return finish(null);
        startedAt = performance.now();
        timer = setTimeout(
          () => finish(`import timed out after ${timeoutMs} ms (the file, or something it imports, does not finish loading)`),
          timeoutMs,
        );
        worker.postMessage({ type: 'parse', file: current } satisfies ParseRequest);
      };
      worker.on('message', (message: ParseMessage) => {
        if (message.type === 'result') {
          clearTimeout(timer);
          results.set(message.result.file.absolute, message.result);
          current = null;
        }
        next();
      });
      worker.on('error', (error: Error) => {
        const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish(oom ? `import ran out of memory (limit ${options.memoryLimitMb ?? 1024} MB)` : `import crashed: ${error.message}`);
      });
      worker.on('exit', (code) => finish(`the file ended the process while loading (process.exit(${code}))`));
    });

  await Promise.all(Array.from({ length: threads }, runThread));
  return files.map((file) => results.get(file.absolute) ?? failed(file, 'was not parsed (parser stopped)', 0));
}
