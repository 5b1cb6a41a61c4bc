import { CompiledQuery } from 'kysely';
import type { PipelinedConnection, PipelineProvider } from '../db/pipeline.js';
import { Slots } from './slots.js';

/** A job as the consumer hands it on: its data, and what pg-boss needs to settle it. @internal */
export interface FetchedJob<Data> {
  id: string;
  retryCount: number;
  data: Data;
}

/** What a {@link JobConsumer} does with the database, on the connection of its open transaction. @internal */
export interface JobSource<Data> {
  /** Take up to `max` waiting jobs (they stay locked by the transaction). */
  fetch(conn: PipelinedConnection, max: number): Promise<FetchedJob<Data>[]>;
  /** Mark the jobs done. */
  complete(conn: PipelinedConnection, jobs: readonly FetchedJob<Data>[]): Promise<void>;
}

/** Starts a task taken with its job, once the taking transaction has committed; resolves when its slot is free. */
export type JobStart = () => Promise<void>;

/** The claim of what a batch of jobs stands for, prepared by a {@link JobBatchHandler}. */
export interface JobClaim {
  /**
   * Send the claim on the transaction's connection — one statement, sent before this returns, so
   * the COMMIT sent next runs after it — and resolve with, per job, what to start once the
   * transaction commits, or null for a job with nothing to run.
   */
  send(conn: PipelinedConnection): Promise<(JobStart | null)[]>;
}

/**
 * Prepares the claim of jobs fetched in a transaction, without touching that transaction (the
 * consumer sends the claim, the jobs' completion and COMMIT together).
 */
export type JobBatchHandler<Data> = (jobs: readonly Data[]) => Promise<JobClaim>;

/** Options of {@link JobConsumer}. @internal */
export interface JobConsumerConfig<Data> {
  /** The connections transactions run on. */
  pipelined: PipelineProvider;
  source: JobSource<Data>;
  handler: JobBatchHandler<Data>;
  /** Tasks running at once. */
  concurrency: number;
  /** Backstop poll while no wake-up comes. */
  pollIntervalMs: number;
  onError: (error: unknown) => void;
}

/** Fetching transactions in flight at once: one fetches while the jobs of the other commit and start. */
const LANES = 2;
/** Most jobs one transaction takes. */
const MAX_BATCH = 100;
/** serialization_failure, deadlock_detected: the transaction is tried again at once. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * Serves one queue: each transaction fetches as many jobs as there are free slots, lets the handler
 * claim what they stand for and completes them — one commit for all three, so a job is either taken
 * and claimed, or still waiting (a worker that dies mid-way leaves nothing half-taken). What the
 * handler claimed starts after the commit. While jobs keep coming a batch is fetched once half the
 * slots are free, so batches stay large; otherwise as soon as one is. Woken by {@link notify}, and
 * polls as a backstop. @internal
 */
export class JobConsumer<Data> {
  readonly #config: JobConsumerConfig<Data>;
  readonly #slots: Slots;
  readonly #refetchAt: number;
  readonly #maxBatch: number;
  #stopped = false;
  /** Set by {@link notify}; a lane that fetched less than it asked for polls again at once when set. */
  #notified = false;
  #sleepers: (() => void)[] = [];
  #lanes: Promise<void>[] = [];
  readonly #stopping: Promise<void>;
  #markStopping: () => void = () => {};

  constructor(config: JobConsumerConfig<Data>) {
    this.#config = config;
    this.#slots = new Slots(config.concurrency);
    this.#maxBatch = Math.max(1, Math.min(MAX_BATCH, config.concurrency));
    this.#refetchAt = Math.max(1, Math.ceil(config.concurrency / 2));
    this.#stopping = new Promise((resolve) => (this.#markStopping = resolve));
  }

  start(): void {
    this.#lanes = Array.from({ length: LANES }, () => this.#lane());
  }

  /** New jobs may be waiting: fetch now instead of at the next poll. */
  notify(): void {
    this.#notified = true;
    for (const wake of this.#sleepers.splice(0)) wake();
  }

  /** Stop fetching; resolves once no transaction is in flight (started tasks run on). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#markStopping();
    this.notify();
    await Promise.all(this.#lanes);
  }

  async #lane(): Promise<void> {
    let full = false;
    while (!this.#stopped) {
      // In a burst, wait for half the slots so the next batch is large; else for any slot.
      await this.#until(this.#slots.whenFree(full ? this.#refetchAt : 1));
      if (this.#stopped) break;
      const taken = this.#slots.take(this.#maxBatch);
      if (taken === 0) continue; // the other lane took them
      this.#notified = false;
      let fetched: number;
      try {
        fetched = await this.#takeBatch(taken);
      } catch (error) {
        this.#slots.release(taken);
        this.#config.onError(error);
        await this.#sleep(Math.min(1000, this.#config.pollIntervalMs));
        full = false;
        continue;
      }
      full = fetched === taken;
      if (!full && !this.#notified) await this.#sleep(this.#config.pollIntervalMs);
    }
  }

  /** One transaction: fetch up to `slots` jobs, hand them to the handler, complete them; then start what it claimed. */
  async #takeBatch(slots: number): Promise<number> {
    let taken: { fetched: number; starts: (JobStart | null)[] };
    for (let attempt = 1; ; attempt++) {
      try {
        taken = await this.#config.pipelined((conn) => this.#takeOn(conn, slots));
        break;
      } catch (error) {
        if (attempt >= 3 || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
    let used = 0;
    for (const start of taken.starts) {
      if (!start) continue;
      used++;
      void Promise.resolve()
        .then(start)
        .catch((error: unknown) => this.#config.onError(error))
        .finally(() => this.#slots.release());
    }
    this.#slots.release(slots - used);
    return taken.fetched;
  }

  /**
   * The transaction on one connection, in two round trips: BEGIN and the fetch sent together; then
   * the claim, the completion and COMMIT. A failed claim or completion aborts the transaction, and
   * the COMMIT behind it then rolls it back.
   */
  async #takeOn(conn: PipelinedConnection, slots: number): Promise<{ fetched: number; starts: (JobStart | null)[] }> {
    const { source, handler } = this.#config;
    const begun = conn.executeCompiled(CompiledQuery.raw('BEGIN'));
    const fetching = source.fetch(conn, slots);
    fetching.catch(() => {}); // awaited below
    let completing: Promise<void> | null = null;
    let claiming: Promise<(JobStart | null)[]> | null = null;
    try {
      await begun;
      const jobs = await fetching;
      if (jobs.length === 0) {
        await conn.executeCompiled(CompiledQuery.raw('COMMIT'));
        return { fetched: 0, starts: [] };
      }
      const claim = await handler(jobs.map((j) => j.data));
      // Every job is done with, claimed or not (a duplicate's instance is claimed or finished
      // already). pg-boss sends its statement a few ticks after the call: COMMIT waits for that.
      let completionSent!: () => void;
      const sent = new Promise<void>((resolve) => (completionSent = resolve));
      completing = source.complete({ ...conn, executeSql: (text, values) => (completionSent(), conn.executeSql(text, values)) }, jobs);
      completing.catch(() => {}); // awaited below
      const before = conn.sent;
      claiming = claim.send(conn);
      claiming.catch(() => {}); // awaited below
      // A claim that did not go out at once (it awaited something first) is answered before COMMIT is sent.
      if (conn.sent === before) await claiming;
      await Promise.race([sent, completing]);
      const committing = conn.executeCompiled(CompiledQuery.raw('COMMIT'));
      const [claimed, completed, committed] = await Promise.allSettled([claiming, completing, committing]);
      for (const outcome of [claimed, completed, committed]) if (outcome.status === 'rejected') throw outcome.reason;
      return { fetched: jobs.length, starts: (claimed as PromiseFulfilledResult<(JobStart | null)[]>).value };
    } catch (error) {
      // A statement still on its way must reach the server before the rollback, so that it runs
      // inside the transaction and is undone, not on its own after it. (After a COMMIT that met an
      // aborted transaction this ROLLBACK only draws a warning.)
      await Promise.allSettled([fetching, completing, claiming]);
      await conn.executeCompiled(CompiledQuery.raw('ROLLBACK')).catch(() => {});
      throw error;
    }
  }

  /** Resolve when `promise` does or the consumer stops. */
  #until(promise: Promise<void>): Promise<void> {
    return Promise.race([promise, this.#stopping]);
  }

  /** Sleep up to `ms`, or until notified or stopped. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#sleepers = this.#sleepers.filter((s) => s !== wake);
        resolve();
      }, ms);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#sleepers.push(wake);
    });
  }
}
