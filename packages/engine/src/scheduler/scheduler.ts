import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { RunType } from '../dag/types.js';
import { describeError } from '../errors.js';
import { advanceRuns, type AdvanceRequest } from './advance.js';
import { createAssetTriggeredRuns } from './asset-runs.js';
import { callbackRunOf } from '../callback/callback-runner.js';
import { fireMissedDeadlines } from './deadlines.js';
import type { EngineContext } from './context.js';
import { computeNextRuns } from './next-run.js';
import { queueScheduled } from './queue-scheduled.js';
import type { RetryWaker } from './retry-waker.js';
import { RunExistsError, createRun, finishRunsIfDone, startQueuedRuns } from './run-lifecycle.js';
import { afterTaskFinished } from './after-finish.js';
import { recordFailure, wakeRetry } from './task-transitions.js';
import { withTransaction } from '../db/transaction.js';
import { advanceBackfills } from '../service/backfill-runner.js';

/** Options of {@link Scheduler}. */
export interface SchedulerConfig {
  /**
   * Pause between scheduling passes (due runs, zombies, overdue retries).
   * @defaultValue 1000
   */
  loopIntervalMs: number;
  /**
   * Pause between sweeps that re-evaluate every running run (catches anything a crashed process left).
   * @defaultValue 5000
   */
  sweepIntervalMs: number;
  /**
   * A task instance queued this long without being claimed has its job sent again.
   * @defaultValue 300000
   */
  requeueAfterMs: number;
}

/** Defaults of {@link SchedulerConfig}. */
export const DEFAULT_SCHEDULER_CONFIG: Readonly<SchedulerConfig> = Object.freeze({
  loopIntervalMs: 1000,
  sweepIntervalMs: 5000,
  requeueAfterMs: 300_000,
});

/** What one scheduling pass did. */
export interface SchedulerPassSummary {
  runsCreated: number;
  /** Runs backfills created or cleared. */
  backfillRuns: number;
  /** Asset-triggered runs created. */
  assetRuns: number;
  /** Runs whose deadline alert fired. */
  deadlinesMissed: number;
  zombies: number;
  retriesWoken: number;
  runsSwept: number;
}

/**
 * Creates scheduled runs when they come due, steps running backfills, fails task instances whose worker stopped heart-beating
 * (retrying them if they have tries left), wakes overdue retries and sensor reschedules, and periodically sweeps running
 * runs. Readiness after a task finishes is handled by the worker that ran it; the sweep only catches
 * what a crash interrupted. Any number of schedulers can run against one database.
 */
export class Scheduler {
  readonly #ctx: EngineContext;
  readonly #config: SchedulerConfig;
  readonly #retries: RetryWaker;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | null = null;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #lastSweep = 0;
  #lastBeat = 0;
  #passes = { count: 0, lastMs: 0, maxMs: 0 };
  /** This scheduler's row in `tributary.process` (health checks read its heartbeat). */
  readonly id = `scheduler-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

  constructor(ctx: EngineContext, config: SchedulerConfig, retries: RetryWaker) {
    this.#ctx = ctx;
    this.#config = config;
    this.#retries = retries;
  }

  /** Start the scheduling loop. */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    const loop = async (): Promise<void> => {
      await this.#register();
      while (!this.#stopping) {
        const started = Date.now();
        try {
          await this.runOnce();
        } catch (error) {
          this.#ctx.log.error({ err: error }, 'scheduler pass failed; retrying next pass');
        }
        this.#recordPass(Date.now() - started);
        await this.#heartbeat();
        const wait = Math.max(0, this.#config.loopIntervalMs - (Date.now() - started));
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, wait);
        });
      }
    };
    this.#loop = loop();
  }

  /** Stop after the current pass. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#wake?.(); // end the pause between passes now
    await this.#loop;
    this.#loop = null;
    await this.#ctx.db.updateTable('tributary.process').set({ stopped_at: new Date() }).where('id', '=', this.id).execute().catch(() => {});
  }

  async #register(): Promise<void> {
    const now = new Date();
    try {
      await this.#ctx.db
        .insertInto('tributary.process')
        .values({ id: this.id, kind: 'scheduler', hostname: hostname(), pid: process.pid, started_at: now, heartbeat_at: now, info: '{}' })
        .execute();
      this.#lastBeat = Date.now();
    } catch (error) {
      this.#ctx.log.warn({ err: error }, 'registering the scheduler failed; health checks will not see it until its next heartbeat');
    }
  }

  #recordPass(ms: number): void {
    this.#passes.count++;
    this.#passes.lastMs = ms;
    this.#passes.maxMs = Math.max(this.#passes.maxMs, ms);
  }

  /** Report this scheduler alive with its recent loop durations, at most once per heartbeat interval. */
  async #heartbeat(): Promise<void> {
    if (Date.now() - this.#lastBeat < this.#ctx.timings.heartbeatIntervalMs) return;
    this.#lastBeat = Date.now();
    const info = { loopDurationMs: this.#passes.lastMs, loopDurationMaxMs: this.#passes.maxMs, passes: this.#passes.count };
    this.#passes.maxMs = 0;
    try {
      await sql`
        INSERT INTO tributary.process (id, kind, hostname, pid, started_at, heartbeat_at, info)
        VALUES (${this.id}, 'scheduler', ${hostname()}, ${process.pid}, now(), now(), ${JSON.stringify(info)}::jsonb)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), info = EXCLUDED.info`.execute(this.#ctx.db);
    } catch (error) {
      this.#ctx.log.warn({ err: error }, 'scheduler heartbeat failed');
    }
  }

  /** One scheduling pass; the sweep runs when its interval has elapsed (or when `sweep` is true). */
  async runOnce(sweep = false): Promise<SchedulerPassSummary> {
    const summary: SchedulerPassSummary = { runsCreated: 0, backfillRuns: 0, assetRuns: 0, deadlinesMissed: 0, zombies: 0, retriesWoken: 0, runsSwept: 0 };
    await computeNextRuns(this.#ctx);
    summary.runsCreated = await this.#createDueRuns();
    summary.backfillRuns = await advanceBackfills(this.#ctx);
    summary.assetRuns = await createAssetTriggeredRuns(this.#ctx);
    summary.deadlinesMissed = await fireMissedDeadlines(this.#ctx);
    summary.zombies = await this.#failZombies();
    summary.retriesWoken = await this.#wakeOverdueRetries();
    if (sweep || Date.now() - this.#lastSweep >= this.#config.sweepIntervalMs) {
      this.#lastSweep = Date.now();
      summary.runsSwept = await this.#sweep();
    }
    return summary;
  }

  async #createDueRuns(): Promise<number> {
    const due = await this.#ctx.db
      .selectFrom('tributary.dag')
      .select(['dag_id', 'schedule', 'next_logical_date', 'next_interval_start', 'next_interval_end'])
      .where('is_active', '=', true)
      .where('is_paused', '=', false)
      .where('needs_next_run', '=', false)
      .where('next_run_after', '<=', new Date())
      .orderBy('next_run_after')
      .limit(100)
      .execute();
    let created = 0;
    for (const dag of due) {
      if (!dag.next_logical_date || !dag.next_interval_start || !dag.next_interval_end) continue;
      let end = dag.next_interval_end;
      if (dag.schedule === '@continuous') {
        // The next continuous run starts once the previous one finished; its interval ends now.
        if (await this.#hasActiveRun(dag.dag_id)) continue;
        end = new Date(Math.max(Date.now(), dag.next_interval_start.getTime()));
      }
      try {
        await createRun(this.#ctx, {
          dagId: dag.dag_id,
          runType: 'scheduled',
          logicalDate: dag.next_logical_date,
          dataInterval: { start: dag.next_interval_start, end },
          triggeredBy: 'scheduler',
        });
        created++;
      } catch (error) {
        // Another scheduler created it first; anything else is logged and retried next pass.
        if (!(error instanceof RunExistsError)) {
          this.#ctx.log.error({ err: error, dagId: dag.dag_id }, 'creating a scheduled run failed');
          continue;
        }
      }
      await this.#ctx.db
        .updateTable('tributary.dag')
        .set({ needs_next_run: true })
        .where('dag_id', '=', dag.dag_id)
        .where('next_logical_date', '=', dag.next_logical_date)
        .execute();
    }
    return created;
  }

  async #hasActiveRun(dagId: string): Promise<boolean> {
    const active = await sql<{ one: number }>`
      SELECT 1 AS one FROM tributary.dag_run WHERE dag_id = ${dagId} AND state IN ('queued', 'running') LIMIT 1`.execute(this.#ctx.db);
    return active.rows.length > 0;
  }

  async #failZombies(): Promise<number> {
    const timeoutMs = this.#ctx.timings.heartbeatTimeoutMs;
    const zombies = await sql<{
      id: number; run_pk: number; dag_id: string; task_id: string; map_index: number; try_number: number; max_tries: number;
      dag_version_id: number; worker_id: string | null; hostname: string | null; heartbeat_at: Date; pool: string;
      run_id: string; run_type: RunType; logical_date: Date; data_interval_start: Date; data_interval_end: Date; conf: Record<string, unknown>;
    }>`
      SELECT t.id, t.run_pk, t.dag_id, t.task_id, t.map_index, t.try_number, t.max_tries, r.dag_version_id, t.pool,
             t.worker_id, t.hostname, t.heartbeat_at, r.run_id, r.run_type, r.logical_date, r.data_interval_start, r.data_interval_end, r.conf
        FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
       WHERE t.state = 'running' AND t.heartbeat_at < now() - make_interval(secs => ${timeoutMs / 1000})
       LIMIT 100`.execute(this.#ctx.db);
    let failed = 0;
    for (const z of zombies.rows) {
      const structure = await this.#ctx.versions.get(z.dag_version_id);
      const task = structure.tasks.get(z.task_id);
      const error = describeError(
        new Error(
          `task instance stopped heart-beating: worker ${z.worker_id ?? '?'} on ${z.hostname ?? '?'} last reported at ` +
            `${z.heartbeat_at.toISOString()} (timeout ${timeoutMs} ms); the worker probably died`,
        ),
      );
      error.name = 'HeartbeatTimeout';
      const outcome = await recordFailure(
        this.#ctx,
        { id: z.id, tryNumber: z.try_number, maxTries: z.max_tries },
        task ?? { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 },
        error,
      );
      if (!outcome) continue;
      failed++;
      this.#ctx.log.warn({ dagId: z.dag_id, taskId: z.task_id, tryNumber: z.try_number, state: outcome.state }, 'zombie task instance failed');
      if (outcome.retryAt) this.#retries.schedule(z.id, outcome.retryAt);
      await afterTaskFinished(this.#ctx, { runPk: z.run_pk, dagId: z.dag_id, taskId: z.task_id, dagVersionId: z.dag_version_id, pool: z.pool }, outcome.state);
      // The worker that would have run the callback is gone: the scheduler runs it (as Airflow 3's
      // DAG processor does), importing the DAG file here.
      const kind = outcome.state === 'failed' ? 'failure' : 'retry';
      const callbacks = this.#ctx.callbacks;
      if (callbacks && task?.callbacks?.includes(kind)) {
        callbacks.start(() =>
          callbacks.runTaskCallbacks({
            ...callbackRunOf(structure.serialized.file, z),
            kind,
            tiId: z.id,
            taskId: z.task_id,
            mapIndex: z.map_index,
            tryNumber: z.try_number,
            maxTries: z.max_tries,
            state: outcome.state,
            error,
          }),
        );
      }
    }
    return failed;
  }

  async #wakeOverdueRetries(): Promise<number> {
    // Processes wake their own retries and sensor reschedules on time; this only picks up those
    // whose process is gone.
    const overdue = await sql<{ id: number }>`
      SELECT id FROM tributary.task_instance
       WHERE state IN ('up_for_retry', 'up_for_reschedule') AND next_retry_at < now() - interval '2 seconds' LIMIT 500`.execute(this.#ctx.db);
    let woken = 0;
    for (const row of overdue.rows) if (await wakeRetry(this.#ctx, row.id)) woken++;
    return woken;
  }

  /**
   * Re-evaluate running runs that nothing is moving: no task instance scheduled, queued, running or
   * waiting to retry (a run with such work is advanced when it finishes). That is what a process
   * crashing between a task's finish and its downstream evaluation leaves behind. All of them in a
   * few statements.
   */
  async #sweep(): Promise<number> {
    const ctx = this.#ctx;
    const stalled = await sql<{ id: number; dag_id: string; dag_version_id: number }>`
      SELECT r.id, r.dag_id, r.dag_version_id FROM tributary.dag_run r
       WHERE r.state = 'running'
         AND NOT EXISTS (SELECT 1 FROM tributary.task_instance t
                          WHERE t.run_pk = r.id AND t.state IN ('scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule', 'deferred'))
       ORDER BY r.id LIMIT 1000`.execute(ctx.db);
    if (stalled.rows.length > 0) {
      const requests: AdvanceRequest[] = [];
      for (const run of stalled.rows) requests.push({ run, structure: await ctx.versions.get(run.dag_version_id), candidates: 'all' });
      await withTransaction(ctx.db, (trx) => advanceRuns(trx, ctx, requests));
      await finishRunsIfDone(ctx, stalled.rows.map((r) => r.id));
    }
    const waiting = await sql<{ dag_id: string }>`
      SELECT DISTINCT dag_id FROM tributary.task_instance WHERE state = 'scheduled'`.execute(ctx.db);
    if (waiting.rows.length > 0) {
      await withTransaction(ctx.db, (trx) => queueScheduled(trx, ctx, waiting.rows.map((r) => r.dag_id)));
    }
    const queuedRuns = await sql<{ dag_id: string }>`
      SELECT DISTINCT dag_id FROM tributary.dag_run WHERE state = 'queued'`.execute(ctx.db);
    for (const row of queuedRuns.rows) await startQueuedRuns(ctx, row.dag_id);
    await this.#requeueStale();
    return stalled.rows.length;
  }

  /** Send again the jobs of task instances queued for too long (a job lost with a crashed worker). */
  async #requeueStale(): Promise<void> {
    const ctx = this.#ctx;
    await withTransaction(ctx.db, async (trx) => {
      const stale = await sql<{ id: number; try_number: number; queue: string; priority_weight: number; dag_version_id: number; task_id: string }>`
        UPDATE tributary.task_instance t SET queued_at = now()
          FROM tributary.dag_run r
         WHERE r.id = t.run_pk AND t.state = 'queued'
           AND t.queued_at < now() - make_interval(secs => ${this.#config.requeueAfterMs / 1000})
        RETURNING t.id, t.try_number, coalesce(r.queue_override, t.queue) AS queue, t.priority_weight, r.dag_version_id, t.task_id`.execute(trx);
      if (stale.rows.length === 0) return;
      ctx.log.warn({ count: stale.rows.length }, 'sending again the jobs of task instances queued for too long');
      await ctx.queue.sendInTransaction(
        trx,
        stale.rows.map((r) => ({ tiId: r.id, tryNumber: r.try_number, queue: r.queue, priority: r.priority_weight, dagVersionId: r.dag_version_id, taskId: r.task_id })),
      );
    });
  }
}
