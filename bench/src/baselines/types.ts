/** A job-queue system driven the way its documentation recommends, for the side-by-side scenarios. */
export interface Baseline {
  /** Name in the results' `system` column. */
  name: string;
  /**
   * Run `length` jobs in a line, each started after the previous one finished; returns the hop
   * latencies (previous job's end → next job's start) in milliseconds.
   */
  chain(length: number): Promise<number[]>;
  /**
   * One job, then `width` jobs started after it; resolves with the milliseconds from the first job's
   * end to the last job's end.
   */
  fanout(width: number): Promise<number>;
  /** Release connections. */
  close(): Promise<void>;
}

/** Worker concurrency every system gets. */
export const CONCURRENCY = 16;

/** Resolve when `count` calls to `tick()` have happened. */
export function countdown(count: number): { tick(): void; done: Promise<void> } {
  let left = count;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (left <= 0) resolve();
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}
