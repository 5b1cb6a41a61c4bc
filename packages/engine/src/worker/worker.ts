import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { kyselyPipeline } from '../db/pipeline.js';
import { TaskCancelledError, WorkerShutdownError } from '../errors.js';
import type { Executors } from '../executor/executors.js';
import type { EngineContext } from '../scheduler/context.js';
import type { RetryWaker } from '../scheduler/retry-waker.js';
import { prepareClaims, type ClaimedTaskInstance, type WorkerIdentity } from '../scheduler/task-transitions.js';
import type { JobClaim, TaskJob } from '../queue/task-queue.js';
import { installConsoleCapture } from './console-capture.js';
import { runClaimedTask } from './task-runner.js';
import { executePrepared } from '../db/prepared.js';

/** Options of {@link Worker}. */
export interface WorkerConfig {
  /**
   * Worker queues served.
   * @defaultValue `['default']`
   */
  queues: readonly string[];
  /**
   * Task instances run at once, per queue.
   * @defaultValue 16
   */
  concurrency: number;
  /**
   * On stop, how long running tasks may take to finish before they are aborted.
   * @defaultValue 30000
   */
  shutdownGraceMs: number;
}

/** Defaults of {@link WorkerConfig}. */
export const DEFAULT_WORKER_CONFIG: Readonly<WorkerConfig> = Object.freeze({
  queues: ['default'],
  concurrency: 16,
  shutdownGraceMs: 30_000,
});

interface Running {
  tiId: number;
  dagId: string;
  taskId: string;
  tryNumber: number;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Takes task jobs from its queues, claims the task instances (a job for an instance that is no longer
 * queued is dropped), runs them through its executor, and heart-beats for the ones it runs. A task
 * instance whose state is changed by someone else while it runs (marked failed, cleared) is aborted
 * at the next heartbeat.
 */
export class Worker {
  readonly identity: WorkerIdentity;
  readonly #ctx: EngineContext;
  readonly #config: WorkerConfig;
  readonly #executors: Executors;
  readonly #retries: RetryWaker;
  /** Tries running here, by `<instance id>:<try>`: a cleared instance can be claimed again while its old try is still stopping. */
  readonly #running = new Map<string, Running>();
  /** Tries whose work is done and whose outcome is being recorded (their slots are free). */
  #recording = 0;
  readonly #maxRecording: number;
  readonly #recordingWaiters: (() => void)[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #beating: Promise<void> | null = null;
  #uncapture: (() => void) | null = null;
  #started = false;
  /** This worker's queue subscriptions, so stopping it leaves other workers of the process serving. */
  readonly #subscriptions: { queue: string; id: string }[] = [];

  constructor(ctx: EngineContext, config: WorkerConfig, executors: Executors, retries: RetryWaker) {
    this.#ctx = ctx;
    this.#config = config;
    this.#executors = executors;
    this.#retries = retries;
    this.#maxRecording = Math.max(64, 4 * config.concurrency);
    this.identity = {
      id: `worker-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      hostname: hostname(),
      pid: process.pid,
      // The executor a task asks for replaces this on its instance when it is not the local one.
      executor: 'local',
    };
  }

  /** Task instances running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Register, start heart-beating and serve the queues. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#uncapture = installConsoleCapture();
    const now = new Date();
    await this.#ctx.db
      .insertInto('tributary.process')
      .values({
        id: this.identity.id,
        kind: 'worker',
        hostname: this.identity.hostname,
        pid: this.identity.pid,
        started_at: now,
        heartbeat_at: now,
        info: JSON.stringify({ queues: this.#config.queues, concurrency: this.#config.concurrency, executors: this.#executors.names }),
      })
      .execute();
    // A beat still waiting on a slow database is not overlapped by the next one.
    this.#heartbeat = setInterval(() => {
      this.#beating ??= this.heartbeat().finally(() => (this.#beating = null));
    }, this.#ctx.timings.heartbeatIntervalMs);
    this.#heartbeat.unref();
    for (const queue of this.#config.queues) {
      const pipelined = this.#ctx.pipelined ?? kyselyPipeline(this.#ctx.db);
      const id = await this.#ctx.queue.work(pipelined, queue, this.#config.concurrency, (jobs) => this.#take(jobs));
      this.#subscriptions.push({ queue, id });
    }
    this.#ctx.log.info({ worker: this.identity.id, queues: this.#config.queues, concurrency: this.#config.concurrency }, 'worker started');
  }

  /**
   * Stop taking jobs, give running tasks `shutdownGraceMs` to finish, then abort the rest (they fail
   * and are retried if they have tries left).
   */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const stopping = Promise.all(this.#subscriptions.splice(0).map((s) => this.#ctx.queue.stopWorking(s.queue, s.id)));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.#config.shutdownGraceMs).unref());
    await Promise.race([Promise.all([...this.#running.values()].map((r) => r.done)), grace]);
    for (const running of this.#running.values()) {
      running.abort.abort(new WorkerShutdownError(running.dagId, running.taskId));
    }
    await Promise.all([...this.#running.values()].map((r) => r.done));
    await stopping;
    await this.#executors.close();
    clearInterval(this.#heartbeat);
    await this.#ctx.db
      .updateTable('tributary.process')
      .set({ stopped_at: new Date() })
      .where('id', '=', this.identity.id)
      .execute()
      .catch(() => {});
    this.#uncapture?.();
    this.#ctx.log.info({ worker: this.identity.id }, 'worker stopped');
  }

  /**
   * Report that this worker's running task instances are alive; abort any whose state was changed by
   * someone else (it is no longer this worker's to finish).
   */
  async heartbeat(): Promise<void> {
    try {
      await this.#ctx.db
        .updateTable('tributary.process')
        .set({ heartbeat_at: new Date() })
        .where('id', '=', this.identity.id)
        .execute();
      if (this.#running.size === 0) return;
      // Judge only the tries this query asks about: one claimed while it runs is not in it.
      const asked = [...this.#running.entries()];
      const alive = await executePrepared(this.#ctx.db, sql<{ id: number; try_number: number }>`
        UPDATE tributary.task_instance SET heartbeat_at = now()
         WHERE id = ANY(${[...new Set(asked.map(([, r]) => r.tiId))]}::bigint[]) AND state IS NOT DISTINCT FROM 'running' AND worker_id = ${this.identity.id}
        RETURNING id, try_number`);
      const mine = new Set(alive.rows.map((r) => `${r.id}:${r.try_number}`));
      for (const [key, running] of asked) {
        // Skip tries that finished meanwhile (their instance left `running` by their own hand).
        if (this.#running.get(key) !== running) continue;
        if (!mine.has(key) && !running.abort.signal.aborted) {
          running.abort.abort(
            new TaskCancelledError(running.dagId, running.taskId, 'its state was changed while it ran (marked, cleared or failed elsewhere)'),
          );
        }
      }
    } catch (error) {
      this.#ctx.log.warn({ err: error }, 'heartbeat failed; will retry');
    }
  }

  /**
   * Prepare the claim of the instances of jobs taken in a transaction (one statement in it); each
   * claimed try starts once that transaction commits. A job whose instance is no longer queued at
   * its try (a duplicate) starts nothing.
   */
  async #take(jobs: readonly TaskJob[]): Promise<JobClaim> {
    const claims = await prepareClaims(this.#ctx, jobs, this.identity);
    return {
      send: async (conn) => {
        let claimed;
        try {
          claimed = await claims.send(conn);
        } catch (error) {
          this.#ctx.log.error({ err: error, jobs: jobs.length }, 'claiming task instances failed');
          throw error; // the jobs are not taken: they are fetched again
        }
        return claimed.map((c) => (c ? () => this.#run(c) : null));
      },
    };
  }

  /** Run a claimed try; resolves once its slot is free (its outcome may still be recording). */
  #run(claimed: ClaimedTaskInstance): Promise<void> {
    const abort = new AbortController();
    // The task's slot is free once its work is done; recording the outcome and advancing the run go on
    // in the background (batched with other tries'), as long as not too many are still recording.
    let counted = false;
    let executed!: () => void;
    const slotFree = new Promise<void>((resolve) => {
      executed = () => {
        counted = true;
        this.#recording++;
        this.#whenRecordingAllows(resolve);
      };
    });
    const done = runClaimedTask(
      { ctx: this.#ctx, executors: this.#executors, retries: this.#retries, hostname: this.identity.hostname },
      claimed,
      abort,
      executed,
    ).catch((error: unknown) => {
      // Storing the outcome failed (e.g. the database went away); the heartbeat timeout retries the try.
      this.#ctx.log.error({ err: error, dagId: claimed.dagId, taskId: claimed.taskId }, 'recording a task outcome failed');
    });
    const key = `${claimed.id}:${claimed.tryNumber}`;
    const finished = done.finally(() => {
      this.#running.delete(key);
      if (counted) {
        this.#recording--;
        this.#wakeRecordingWaiters();
      }
    });
    this.#running.set(key, { tiId: claimed.id, dagId: claimed.dagId, taskId: claimed.taskId, tryNumber: claimed.tryNumber, abort, done: finished });
    return Promise.race([slotFree, finished]);
  }

  /** Resolve `release` once fewer tries than the limit are recording their outcome. */
  #whenRecordingAllows(release: () => void): void {
    if (this.#recording <= this.#maxRecording) release();
    else this.#recordingWaiters.push(release);
  }

  #wakeRecordingWaiters(): void {
    while (this.#recordingWaiters.length > 0 && this.#recording <= this.#maxRecording) this.#recordingWaiters.shift()!();
  }
}
