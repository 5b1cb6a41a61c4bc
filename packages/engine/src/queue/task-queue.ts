import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { PgBoss, fromKysely } from 'pg-boss';
import type { PipelineProvider } from '../db/pipeline.js';
import type { Database } from '../db/schema.js';
import { StatisticsRefresher } from '../db/statistics.js';
import { JobConsumer, type FetchedJob, type JobBatchHandler } from './job-consumer.js';

export type { JobClaim, JobStart } from './job-consumer.js';

/** Name of the Postgres schema pg-boss keeps its tables in. */
export const QUEUE_SCHEMA = 'tributary_queue';

/** What a task job carries: which task instance to run, and the try number it had when queued. */
export interface TaskJob {
  tiId: number;
  /** `try_number` of the task instance when it was queued; the claim only succeeds if it is unchanged. */
  tryNumber: number;
  /** The run's DAG version and the task, so the worker knows the task before claiming it. */
  dagVersionId?: number;
  taskId?: string;
}

/** A task job to send. */
export interface TaskJobToSend extends TaskJob {
  /** Worker queue (the task's `queue` option, or the run's override). */
  queue: string;
  /** Effective priority; higher runs first. */
  priority: number;
}

/** Options of {@link TaskQueue}. */
export interface TaskQueueConfig {
  connectionString: string;
  /** Most connections pg-boss opens (besides one for LISTEN). */
  maxConnections?: number;
  /** pg-boss errors and warnings, and failed fetches (it keeps running). */
  onError?: (error: Error) => void;
  /**
   * How often pg-boss runs its maintenance (expired jobs, deleting old completed ones).
   * @defaultValue 60
   */
  superviseIntervalSeconds?: number;
  /**
   * How often a worker looks for jobs when no wake-up came (a lost notification, a listener
   * reconnecting).
   * @defaultValue 2000
   */
  pollIntervalMs?: number;
}

/** Defaults of {@link TaskQueueConfig}. */
export const DEFAULT_QUEUE_POLL_INTERVAL_MS = 2000;

/**
 * A handler for task jobs fetched in a transaction: prepare the claim of their task instances, which
 * the queue sends in that transaction; the claim gives, per job, what starts its task once the
 * transaction commits (its slot is held until the start resolves), or null when there is nothing
 * to run (a duplicate job). A failure rolls the transaction back: the jobs wait for the next fetch.
 */
export type TaskJobHandler = JobBatchHandler<TaskJob>;

/** A LISTEN connection, closed on stop. */
type ListenHandle = { close(): Promise<void> };

/** The channel task jobs are announced on (payload: the pg-boss queue name). */
const WAKE_CHANNEL = 'tributary_task_jobs';

/** The pg-boss queue name of a worker queue. */
export function queueNameFor(workerQueue: string): string {
  return `tasks.${workerQueue}`;
}

/**
 * The task queue: pg-boss with LISTEN/NOTIFY, one pg-boss queue per worker queue. Task instances are
 * the source of truth; a job only says "this task instance is ready", so a job delivered twice is
 * harmless (the second claim fails).
 */
export class TaskQueue {
  readonly #boss: PgBoss;
  readonly #known = new Set<string>();
  readonly #statistics: StatisticsRefresher;
  readonly #onError: (error: Error) => void;
  readonly #pollIntervalMs: number;
  /** Queues served in this process, by subscription id. */
  readonly #consumers = new Map<string, { name: string; consumer: JobConsumer<TaskJob> }>();
  #listening: Promise<ListenHandle | null> | null = null;
  #started = false;

  constructor(config: TaskQueueConfig) {
    this.#boss = new PgBoss({
      connectionString: config.connectionString,
      schema: QUEUE_SCHEMA,
      application_name: 'tributary-queue',
      max: config.maxConnections ?? 4,
      // Workers here fetch inside their own transactions and are woken on a channel of their own.
      useListenNotify: false,
      schedule: false,
      ...(config.superviseIntervalSeconds ? { superviseIntervalSeconds: config.superviseIntervalSeconds } : {}),
    });
    this.#onError = (error) => config.onError?.(error);
    this.#pollIntervalMs = config.pollIntervalMs ?? DEFAULT_QUEUE_POLL_INTERVAL_MS;
    this.#boss.on('error', (error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))));
    this.#statistics = new StatisticsRefresher((table) => this.#boss.getDb().executeSql(`ANALYZE ${table}`));
  }

  /** Install or migrate pg-boss's schema and start its maintenance; idempotent. */
  async start(): Promise<void> {
    if (this.#started) return;
    await this.#boss.start();
    this.#started = true;
  }

  /** Create the pg-boss queue for a worker queue if it does not exist yet. */
  async ensureQueue(workerQueue: string): Promise<void> {
    const name = queueNameFor(workerQueue);
    if (this.#known.has(name)) return;
    const existing = await this.#boss.getQueue(name);
    if (!existing) {
      await this.#boss.createQueue(name, {
        // Workers are woken on WAKE_CHANNEL, announced with the jobs (see sendInTransaction).
        notify: false,
        // The engine retries tasks itself, and a job is taken in the transaction that claims its
        // task instance: pg-boss never has a job to redeliver.
        retryLimit: 3,
        expireInSeconds: 3600,
        deleteAfterSeconds: 3600,
      });
    }
    this.#known.add(name);
  }

  /**
   * Send task jobs inside the caller's transaction, so they exist exactly when the state change that
   * queued them commits. Workers serving the queues are woken by a NOTIFY at commit.
   */
  async sendInTransaction(trx: Transaction<Database> | Kysely<Database>, jobs: readonly TaskJobToSend[]): Promise<void> {
    if (jobs.length === 0) return;
    const byQueue = new Map<string, TaskJobToSend[]>();
    for (const job of jobs) {
      const list = byQueue.get(job.queue);
      if (list) list.push(job);
      else byQueue.set(job.queue, [job]);
    }
    const db = fromKysely(trx);
    for (const [queue, list] of byQueue) {
      await this.ensureQueue(queue);
      await this.#boss.insert(
        queueNameFor(queue),
        list.map((job) => ({ data: { tiId: job.tiId, tryNumber: job.tryNumber, dagVersionId: job.dagVersionId, taskId: job.taskId }, priority: job.priority })),
        { db },
      );
    }
    await sql`SELECT pg_notify(${WAKE_CHANNEL}, q) FROM unnest(${[...byQueue.keys()].map(queueNameFor)}::text[]) AS q`.execute(trx);
    // A burst of jobs: fetches must use the job index in order, not sort every waiting job.
    this.#statistics.note(`${QUEUE_SCHEMA}.job`, jobs.length);
  }

  /**
   * Serve a worker queue: up to `concurrency` task instances run at once. Each batch of jobs is
   * fetched, handed to `handler` (which claims their task instances) and completed in one
   * transaction, as many jobs as there are free slots; what the handler claimed then starts. Returns
   * an id for {@link TaskQueue.stopWorking}.
   */
  async work(pipelined: PipelineProvider, workerQueue: string, concurrency: number, handler: TaskJobHandler): Promise<string> {
    await this.ensureQueue(workerQueue);
    const name = queueNameFor(workerQueue);
    const consumer = new JobConsumer<TaskJob>({
      pipelined,
      concurrency,
      handler,
      pollIntervalMs: this.#pollIntervalMs,
      onError: (error) => this.#onError(error instanceof Error ? error : new Error(String(error))),
      source: {
        fetch: async (conn, max) => (await this.#boss.fetch<TaskJob>(name, { batchSize: max, db: conn })) as FetchedJob<TaskJob>[],
        complete: async (conn, jobs) => {
          await this.#boss.complete(name, jobs.map((j) => ({ id: j.id, retryCount: j.retryCount })), undefined, { db: conn });
        },
      },
    });
    const id = randomUUID();
    this.#consumers.set(id, { name, consumer });
    await this.#listen();
    consumer.start();
    return id;
  }

  /** Listen for jobs sent (once per process); without a listener, workers poll. */
  #listen(): Promise<ListenHandle | null> {
    this.#listening ??= (async () => {
      const listen = this.#boss.getDb().listen?.bind(this.#boss.getDb());
      if (!listen) return null;
      const wake = (name: string | null): void => {
        for (const c of this.#consumers.values()) if (name === null || c.name === name) c.consumer.notify();
      };
      try {
        // After a reconnect, notifications sent meanwhile are lost: every worker looks once.
        return await listen(WAKE_CHANNEL, (payload) => wake(payload), () => wake(null));
      } catch (error) {
        this.#onError(new Error(`listening for task jobs failed; workers poll every ${this.#pollIntervalMs} ms`, { cause: error }));
        return null;
      }
    })();
    return this.#listening;
  }

  /**
   * Stop serving a worker queue — only the subscription `id` returned by {@link TaskQueue.work} when
   * given (another worker of this process may serve the same queue), else every one; resolves once
   * no fetch is in flight (tasks already started run on).
   */
  async stopWorking(workerQueue: string, id?: string): Promise<void> {
    const name = queueNameFor(workerQueue);
    const stopping: Promise<void>[] = [];
    for (const [key, c] of this.#consumers) {
      if (c.name !== name || (id !== undefined && key !== id)) continue;
      this.#consumers.delete(key);
      stopping.push(c.consumer.stop());
    }
    await Promise.all(stopping);
  }

  /** Delete a worker queue and its jobs (used for the private queue of `dags test`). */
  async deleteQueue(workerQueue: string): Promise<void> {
    const name = queueNameFor(workerQueue);
    await this.#boss.deleteQueue(name);
    this.#known.delete(name);
  }

  /** Stop pg-boss: workers finish their current jobs (up to `timeoutMs`), then connections close. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await Promise.all([...this.#consumers.values()].map((c) => c.consumer.stop()));
    this.#consumers.clear();
    const listener = await this.#listening;
    this.#listening = null;
    await listener?.close().catch(() => {});
    await this.#boss.stop({ graceful: true, timeout: timeoutMs });
  }
}
