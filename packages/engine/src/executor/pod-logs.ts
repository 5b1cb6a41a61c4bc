import { setTimeout as sleep } from 'node:timers/promises';
import type { PodClient } from './pod-client.js';

/** Comparable key of an RFC 3339 timestamp with up to nanoseconds (`…T10:00:00.5Z` → `…T10:00:00.500000000`). */
export function timestampKey(timestamp: string): string | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(timestamp);
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}` : null;
}

/**
 * Splits a timestamped log stream (`<RFC 3339 time> <text>` per line, as `timestamps=true` gives) into
 * lines, dropping lines already seen when a stream is resumed from `sinceTime` (which the API takes
 * to the second, so a resumed stream repeats the last second).
 */
export class LogLineSplitter {
  #partial = '';
  #lastKey: string | null = null;
  #seenAtLastKey = 0;
  #skipAtLastKey = 0;
  readonly #onLine: (text: string) => void;

  constructor(onLine: (text: string) => void) {
    this.#onLine = onLine;
  }

  /** The `sinceTime` to resume from (the last line's second), or undefined before any line. */
  get resumeFrom(): string | undefined {
    return this.#lastKey ? `${this.#lastKey.slice(0, 19)}Z` : undefined;
  }

  /** Start a resumed stream: lines at or before the last one seen are skipped. */
  resume(): void {
    this.#partial = '';
    this.#skipAtLastKey = this.#seenAtLastKey;
  }

  /** Feed a chunk of the stream. */
  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** The stream ended: a last line without a newline is a line too. */
  end(): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
  }

  #line(line: string): void {
    const space = line.indexOf(' ');
    const key = space > 0 ? timestampKey(line.slice(0, space)) : null;
    if (key === null) {
      this.#onLine(line);
      return;
    }
    if (this.#lastKey !== null && key < this.#lastKey) return;
    if (key === this.#lastKey) {
      if (this.#skipAtLastKey > 0) {
        this.#skipAtLastKey--;
        return;
      }
      this.#seenAtLastKey++;
    } else {
      this.#lastKey = key;
      this.#seenAtLastKey = 1;
      this.#skipAtLastKey = 0;
    }
    this.#onLine(line.slice(space + 1));
  }
}

/**
 * Follows a container's log into `onLine`, one call per line, from the start (so a reattached try
 * gets the whole output). A stream the server closes early is resumed where it stopped; once the
 * container has terminated, a last read collects anything left. Keeps the last lines for error messages.
 */
export class PodLogFollower {
  readonly #client: PodClient;
  readonly #target: { namespace: string; name: string; container: string };
  readonly #splitter: LogLineSplitter;
  readonly #tail: string[] = [];
  readonly #tailSize: number;
  readonly #stop = new AbortController();
  #done: Promise<void> | null = null;
  /** Called with a problem reading the log (the task goes on). */
  onProblem: (error: unknown) => void = () => {};

  constructor(client: PodClient, target: { namespace: string; name: string; container: string }, onLine: (text: string) => void, tailSize = 20) {
    this.#client = client;
    this.#target = target;
    this.#tailSize = tailSize;
    this.#splitter = new LogLineSplitter((text) => {
      this.#tail.push(text);
      if (this.#tail.length > this.#tailSize) this.#tail.shift();
      onLine(text);
    });
  }

  /** The last lines read. */
  get lastLines(): readonly string[] {
    return this.#tail;
  }

  /** Start following; `terminated()` says whether the container has exited. */
  start(terminated: () => boolean): void {
    this.#done ??= this.#follow(terminated);
  }

  async #follow(terminated: () => boolean): Promise<void> {
    const { namespace, name, container } = this.#target;
    let problems = 0;
    for (let first = true; !this.#stop.signal.aborted; first = false) {
      const wasTerminated = terminated();
      if (!first) this.#splitter.resume();
      try {
        await this.#client.streamLog(
          namespace,
          name,
          container,
          { follow: !wasTerminated, sinceTime: this.#splitter.resumeFrom },
          (chunk) => this.#splitter.push(chunk),
          this.#stop.signal,
        );
        this.#splitter.end();
      } catch (error) {
        if (problems++ === 0) this.onProblem(error);
      }
      if (wasTerminated || this.#stop.signal.aborted) return;
      if (!terminated()) await sleep(1_000, undefined, { signal: this.#stop.signal }).catch(() => {});
    }
  }

  /** Wait (at most `timeoutMs`) for the log to be read to its end, then stop. */
  async finish(timeoutMs = 10_000): Promise<void> {
    if (this.#done) {
      const timer = sleep(timeoutMs, undefined, { signal: this.#stop.signal }).catch(() => {});
      await Promise.race([this.#done, timer]);
    }
    this.stop();
    await this.#done;
  }

  /** Stop following now. */
  stop(): void {
    this.#stop.abort();
  }
}

/** The last `count` lines of a container's log (empty when it cannot be read). */
export async function readLastLines(client: PodClient, target: { namespace: string; name: string; container: string }, count: number): Promise<string[]> {
  const lines: string[] = [];
  const splitter = new LogLineSplitter((text) => lines.push(text));
  try {
    await client.streamLog(target.namespace, target.name, target.container, { follow: false, tailLines: count }, (chunk) => splitter.push(chunk), new AbortController().signal);
    splitter.end();
  } catch {
    // The log is a courtesy in an error message; the error itself is what matters.
  }
  return lines.slice(-count);
}
