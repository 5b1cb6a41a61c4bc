import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { TaskLogger } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { logBatcher } from '../scheduler/transition-batches.js';

/** Longest log line kept, in characters; longer lines are cut with a marker. */
export const MAX_LOG_LINE = 32_768;

/** Where a task's log lines go: a {@link TaskLogWriter}, or a thread's channel to one. */
export type LogLineSink = Pick<TaskLogWriter, 'write'>;

/** A buffered log line. */
export interface Line {
  at: Date;
  level: string;
  message: string;
}

/**
 * Buffers one try's log lines and writes them to `task_log` in batches (every `flushMs`, or sooner
 * when `maxBuffered` lines wait), so logging from a hot loop costs no round trip per line.
 */
export class TaskLogWriter {
  readonly #db: Kysely<Database>;
  readonly #tiId: number;
  readonly #tryNumber: number;
  readonly #flushMs: number;
  readonly #maxBuffered: number;
  #buffer: Line[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Called when writing to the database fails (lines are dropped, the task is not). */
  onError: (error: unknown) => void = () => {};

  constructor(db: Kysely<Database>, tiId: number, tryNumber: number, options: { flushMs?: number; maxBuffered?: number } = {}) {
    this.#db = db;
    this.#tiId = tiId;
    this.#tryNumber = tryNumber;
    this.#flushMs = options.flushMs ?? 200;
    this.#maxBuffered = options.maxBuffered ?? 500;
  }

  /** Add a line. */
  write(level: string, message: string, at = new Date()): void {
    if (this.#closed) return;
    const text = message.length > MAX_LOG_LINE ? `${message.slice(0, MAX_LOG_LINE)}… [line cut at ${MAX_LOG_LINE} characters]` : message;
    this.#buffer.push({ at, level, message: text });
    if (this.#buffer.length >= this.#maxBuffered) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#flushMs);
  }

  /** Write buffered lines now. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return this.#writing;
    const lines = this.#buffer;
    this.#buffer = [];
    this.#writing = this.#writing.then(() =>
      logBatcher(this.#db)
        .run({ tiId: this.#tiId, tryNumber: this.#tryNumber, lines })
        .then(() => undefined, (error: unknown) => this.onError(error)),
    );
    return this.#writing;
  }

  /**
   * Stop accepting lines and hand back those not written yet (once earlier writes are done), for the
   * caller to write with its own statement — a task's last lines go with its outcome.
   */
  async drain(): Promise<Line[]> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    await this.#writing;
    const lines = this.#buffer;
    this.#buffer = [];
    return lines;
  }

  /** Flush and stop accepting lines. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * A pino logger whose lines go to `writer`: the message, followed by any structured fields as JSON.
 */
export function createTaskLogger(writer: LogLineSink, bindings: Record<string, unknown> = {}): TaskLogger {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        const { level, time, msg, ...fields } = JSON.parse(chunk.toString()) as Record<string, unknown>;
        const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
        writer.write(LEVEL_NAMES[level as number] ?? 'info', `${typeof msg === 'string' ? msg : ''}${extra}`.trim(), new Date(time as number));
      } catch {
        writer.write('info', chunk.toString().trimEnd());
      }
      done();
    },
  });
  return pino({ level: 'debug', base: bindings, timestamp: pino.stdTimeFunctions.epochTime }, destination);
}
