import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { Slots } from './slots.js';

/** A job as the consumer hands it on: its data, and what pg-boss needs to settle it. @internal */
export interface FetchedJob<Data> {
  id: string;
  retryCount: number;
  data: Data;
}

/** What a {@link JobConsumer} does with the database, inside the caller's transaction. @internal */
export interface JobSource<Data> {
  /** Take up to `max` waiting jobs (they stay locked by the transaction). */
  fetch(trx: Transaction<Database>, max: number): Promise<FetchedJob<Data>[]>;
  /** Mark the jobs done. */
  complete(trx: Transaction<Database>, jobs: readonly FetchedJob<Data>[]): Promise<void>;
}

/** Starts a task taken with its job, once the taking transaction has committed; resolves when its slot is free. */
export type JobStart = () => Promise<void>;

/**
 * Takes jobs inside the transaction that fetched them (claiming what they stand for) and returns, per
 * job, what to start once that transaction commits, or null for a job with nothing to run.
 */
export type JobBatchHandler<Data> = (jobs: readonly Data[], trx: Transaction<Database>) => Promise<(JobStart | null)[]>;

/** Options of {@link JobConsumer}. @internal */
export interface JobConsumerConfig<Data> {
  db: Kysely<Database>;
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
    const { db, source, handler } = this.#config;
    const { fetched, starts } = await withTransaction(db, async (trx) => {
      const jobs = await source.fetch(trx, slots);
      if (jobs.length === 0) return { fetched: 0, starts: [] as (JobStart | null)[] };
      const handled = await handler(jobs.map((j) => j.data), trx);
      // Every job is done with, claimed or not (a duplicate's instance is claimed or finished already).
      await source.complete(trx, jobs);
      return { fetched: jobs.length, starts: handled };
    });
    let used = 0;
    for (const start of starts) {
      if (!start) continue;
      used++;
      void Promise.resolve()
        .then(start)
        .catch((error: unknown) => this.#config.onError(error))
        .finally(() => this.#slots.release());
    }
    this.#slots.release(slots - used);
    return fetched;
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
