import type { Kysely, Transaction } from 'kysely';
import { PgBoss, fromKysely, type Job } from 'pg-boss';
import type { Database } from '../db/schema.js';
import { StatisticsRefresher } from '../db/statistics.js';
import { Slots } from './slots.js';

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
  /** pg-boss errors and warnings (it keeps running). */
  onError?: (error: Error) => void;
  /**
   * A job a worker took but whose heartbeat stopped this long ago (the worker died before it claimed
   * the task instance, e.g. a job waiting in its batch for a free slot) is given to another worker.
   * At least 10 (pg-boss's minimum); null turns job heartbeats off.
   * @defaultValue null
   */
  jobHeartbeatSeconds?: number | null;
  /**
   * How often pg-boss looks for jobs whose heartbeat stopped (and expired jobs).
   * @defaultValue 60
   */
  superviseIntervalSeconds?: number;
}

/**
 * A handler for task jobs: claim the task instance and start it. Resolve with the running task's
 * `finished` promise (its slot is held until then), or with nothing when there is nothing to run
 * (a duplicate job). Rejecting makes pg-boss deliver the job again.
 */
export type TaskJobHandler = (job: TaskJob) => Promise<{ finished: Promise<void> } | void>;

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
  readonly #jobHeartbeatSeconds: number | null;
  readonly #statistics: StatisticsRefresher;
  #started = false;

  constructor(config: TaskQueueConfig) {
    this.#boss = new PgBoss({
      connectionString: config.connectionString,
      schema: QUEUE_SCHEMA,
      application_name: 'tributary-queue',
      max: config.maxConnections ?? 4,
      useListenNotify: true,
      schedule: false,
      ...(config.superviseIntervalSeconds ? { superviseIntervalSeconds: config.superviseIntervalSeconds } : {}),
    });
    this.#jobHeartbeatSeconds = config.jobHeartbeatSeconds ?? null;
    this.#boss.on('error', (error: unknown) => config.onError?.(error instanceof Error ? error : new Error(String(error))));
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
        notify: true,
        // The engine retries tasks itself; pg-boss only redelivers a job whose worker vanished
        // before claiming it.
        retryLimit: 3,
        expireInSeconds: 3600,
        deleteAfterSeconds: 3600,
        ...(this.#jobHeartbeatSeconds ? { heartbeatSeconds: this.#jobHeartbeatSeconds } : {}),
      });
    } else if (!existing.notify || (this.#jobHeartbeatSeconds !== null && existing.heartbeatSeconds !== this.#jobHeartbeatSeconds)) {
      await this.#boss.updateQueue(name, { notify: true, ...(this.#jobHeartbeatSeconds ? { heartbeatSeconds: this.#jobHeartbeatSeconds } : {}) });
    }
    this.#known.add(name);
  }

  /**
   * Send task jobs inside the caller's transaction, so they exist exactly when the state change that
   * queued them commits. Workers listening on the queue are woken by NOTIFY at commit.
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
    // A burst of jobs: fetches must use the job index in order, not sort every waiting job.
    this.#statistics.note(`${QUEUE_SCHEMA}.job`, jobs.length);
  }

  /**
   * Serve a worker queue: up to `concurrency` task instances run at once, each started by `handler`.
   * A job is complete once its task instance is claimed — the instance, not the job, tracks the run
   * from there (a worker that dies is found by its heartbeat) — so fetching the next jobs overlaps
   * running tasks; jobs are fetched only when slots are free. Returns an id for
   * {@link TaskQueue.stopWorking}.
   */
  async work(workerQueue: string, concurrency: number, handler: TaskJobHandler): Promise<string> {
    await this.ensureQueue(workerQueue);
    const slots = new Slots(concurrency);
    // A fetch takes up to `concurrency` jobs once half the slots are free: the jobs beyond the free slots
    // wait here (unclaimed, their instances still queued) and start as slots free up, so the next
    // fetch is not on the path of every task.
    const batchSize = Math.max(2, Math.min(100, concurrency));
    const refetchAt = Math.max(1, Math.ceil(concurrency / 2));
    const start = async (job: TaskJob): Promise<void> => {
      await slots.acquire();
      let started: { finished: Promise<void> } | void;
      try {
        started = await handler(job);
      } catch (error) {
        slots.release();
        throw error;
      }
      if (started) void started.finished.finally(() => slots.release());
      else slots.release();
    };
    // pg-boss sleeps a loop between fetches unless the last fetch came back full and bursting is on,
    // which needs batches of two or more (with batch size 1 a fan-out woken by one NOTIFY drained one
    // job per backstop poll).
    return this.#boss.work<TaskJob>(
      queueNameFor(workerQueue),
      {
        localConcurrency: 2,
        batchSize,
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 2,
        notifyPollingIntervalSeconds: 2,
      },
      async (jobs: Job<TaskJob>[]) => {
        await Promise.all(jobs.map((job) => start(job.data)));
        // Fetch again only when the next batch can start at once.
        await slots.whenFree(refetchAt);
      },
    );
  }

  /**
   * Stop serving a worker queue — only the subscription `id` returned by {@link TaskQueue.work} when
   * given (another worker of this process may serve the same queue), else every one; waits for
   * running handlers.
   */
  async stopWorking(workerQueue: string, id?: string): Promise<void> {
    await this.#boss.offWork(queueNameFor(workerQueue), id === undefined ? { wait: true } : { wait: true, id });
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
    await this.#boss.stop({ graceful: true, timeout: timeoutMs });
  }
}
