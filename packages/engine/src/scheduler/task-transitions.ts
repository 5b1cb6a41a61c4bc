import { sql, type Kysely } from 'kysely';
import type { RunType, SerializedTask } from '../dag/types.js';
import type { PipelinedConnection } from '../db/pipeline.js';
import type { Database, TaskState } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import type { ErrorInfo } from '../errors.js';
import type { TaskJob } from '../queue/task-queue.js';
import type { DagStructure, EngineContext } from './context.js';
import { queueScheduled } from './queue-scheduled.js';
import { recordAssetEvents, type AssetEventInput, type AssetEventSource } from './asset-events.js';
import { type ClaimInput, type LogLine, claimBatcher, flushClaims, flushSuccesses, successBatcher, upstreamBatcher } from './transition-batches.js';

/** Who is running a task instance. */
export interface WorkerIdentity {
  id: string;
  hostname: string;
  pid: number;
  executor: string;
}

/** A task instance a worker has claimed, with what it needs to run it. */
export interface ClaimedTaskInstance {
  id: number;
  runPk: number;
  dagId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  maxTries: number;
  /** The pool whose slots it occupies. */
  pool: string;
  runId: string;
  runType: RunType;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  conf: Record<string, unknown>;
  dagVersionId: number;
  /** Upstream results, when the claim read them (see {@link upstreamResults} otherwise). */
  upstream?: Record<string, unknown>;
}

/** What the claim of `job` needs besides the instance: the upstream results to read with it, when the job names its task. */
async function claimInput(ctx: EngineContext, job: TaskJob, worker: WorkerIdentity, executor?: Kysely<Database>): Promise<ClaimInput> {
  // A job that names the DAG version and task lets the claim read the upstream results too.
  let upstream: ClaimInput['upstream'];
  if (job.dagVersionId !== undefined && job.taskId !== undefined) {
    const structure = await ctx.versions.get(job.dagVersionId, executor).catch(() => null);
    const task = structure?.tasks.get(job.taskId);
    if (structure && task) {
      upstream = { versionId: job.dagVersionId, taskIds: task.upstream, mapped: task.upstream.filter((id) => structure.tasks.get(id)?.expand) };
    }
  }
  return { tiId: job.tiId, tryNumber: job.tryNumber, worker, upstream };
}

/**
 * Claim a queued task instance for a worker: `queued` → `running` with the next try number, a new
 * `task_try` row, and the previous try's XCom removed — one statement, and only when the instance is
 * still queued at the try the job was sent for. Returns null when someone else got there first.
 */
export async function claimTaskInstance(
  ctx: EngineContext,
  job: TaskJob,
  worker: WorkerIdentity,
): Promise<ClaimedTaskInstance | null> {
  return claimBatcher(ctx.db).run(await claimInput(ctx, job, worker));
}

/**
 * {@link claimTaskInstance} for the jobs a worker took, prepared: `send` claims them on the
 * connection of the transaction that took them, in one statement sent before it returns. A job
 * whose instance is claimed by an earlier job of the list, or is no longer queued at its try, gets
 * null.
 */
export async function prepareClaims(
  ctx: EngineContext,
  jobs: readonly TaskJob[],
  worker: WorkerIdentity,
): Promise<{ send(conn: PipelinedConnection): Promise<(ClaimedTaskInstance | null)[]> }> {
  const first = new Map<number, number>();
  jobs.forEach((job, i) => {
    if (!first.has(job.tiId)) first.set(job.tiId, i);
  });
  const unique = [...first.values()].map((i) => jobs[i]!);
  // A DAG version not cached yet is read through the pool: the transaction locks no row of it.
  const inputs = await Promise.all(unique.map((job) => claimInput(ctx, job, worker)));
  return {
    send: async (conn) => {
      const claimed = await flushClaims(conn, inputs);
      const byId = new Map(unique.map((job, i) => [job.tiId, claimed[i]!]));
      return jobs.map((job, i) => (first.get(job.tiId) === i ? (byId.get(job.tiId) ?? null) : null));
    },
  };
}

/**
 * Results of upstream tasks of a run, by task id (tasks without a result are absent; a mapped
 * task's result is the list of its instances' results); offloaded results are read from the object store.
 */
export async function upstreamResults(
  ctx: EngineContext,
  runPk: number,
  upstream: readonly string[],
  structure: DagStructure,
): Promise<Record<string, unknown>> {
  if (upstream.length === 0) return {};
  const values = await upstreamBatcher(ctx.db).run({ runPk, taskIds: upstream, mapped: upstream.filter((id) => structure.tasks.get(id)?.expand) });
  return ctx.xcom.resolveAll(values, structure.serialized.dagId);
}

/** What else a successful try records with its state. */
export interface SuccessExtras {
  /** The result was offloaded: `resultJson` is its reference, and this the result's size in bytes. */
  offloadedSizeBytes?: number;
  /** The arguments it ran with (JSON) for `rendered_args`; null or absent keeps what is stored. */
  renderedArgsJson?: string | null;
  /** Asset events of its outlets, recorded in the same transaction as the success. */
  assetEvents?: { events: readonly AssetEventInput[]; source: AssetEventSource };
}

/**
 * Record a successful try, its result (JSON text, or null for none), a flow-control task's decision
 * and its last log lines in one statement (shared with other tries finishing at the same time).
 * A task with outlets pays for a transaction of its own instead, which also records its asset
 * events. Returns false when the instance is no longer running this try (it was cleared, marked or
 * failed as a zombie meanwhile): the result is then discarded.
 */
export async function recordSuccess(
  ctx: EngineContext,
  ti: { id: number; tryNumber: number },
  resultJson: string | null,
  logLines: readonly LogLine[] = [],
  decisionJson: string | null = null,
  extras: SuccessExtras = {},
): Promise<boolean> {
  const input = {
    id: ti.id,
    tryNumber: ti.tryNumber,
    resultJson,
    resultOffloaded: extras.offloadedSizeBytes !== undefined,
    resultSizeBytes: extras.offloadedSizeBytes ?? null,
    logLines,
    decisionJson,
    renderedArgsJson: extras.renderedArgsJson ?? null,
  };
  const assetEvents = extras.assetEvents;
  if (!assetEvents || assetEvents.events.length === 0) return successBatcher(ctx.db).run(input);
  return withTransaction(ctx.db, async (trx) => {
    const [succeeded] = await flushSuccesses(trx, [input]);
    if (succeeded) await recordAssetEvents(trx, assetEvents.events, assetEvents.source);
    return succeeded === true;
  });
}

/**
 * Record a try that ended by skipping itself (`SkipTaskError`): the instance becomes `skipped`.
 * Returns false when it is no longer running this try.
 */
export async function recordSkipped(
  ctx: EngineContext,
  ti: { id: number; tryNumber: number },
  reason: string,
  renderedArgsJson: string | null = null,
): Promise<boolean> {
  const result = await sql<{ id: number }>`
    WITH done AS (
      UPDATE tributary.task_instance SET state = 'skipped', end_date = now(), updated_at = now(),
             rendered_args = coalesce(${renderedArgsJson}::jsonb, rendered_args)
       WHERE id = ${ti.id} AND state = 'running' AND try_number = ${ti.tryNumber}
      RETURNING id, end_date
    ), tried AS (
      UPDATE tributary.task_try t SET state = 'skipped', end_date = d.end_date,
             error = ${JSON.stringify({ name: 'SkipTaskError', message: reason })}::jsonb,
             duration_ms = (extract(epoch FROM d.end_date - t.start_date) * 1000)::int
        FROM done d WHERE t.ti_id = d.id AND t.try_number = ${ti.tryNumber}
    )
    SELECT id FROM done`.execute(ctx.db);
  return result.rows.length > 0;
}

/** Wait before retrying after try `tryNumber` (1-based) failed: fixed, or doubled per try up to the cap. */
export function retryDelayMs(task: Pick<SerializedTask, 'retryDelayMs' | 'retryExponentialBackoff' | 'maxRetryDelayMs'>, tryNumber: number): number {
  if (!task.retryExponentialBackoff) return task.retryDelayMs;
  return Math.min(task.retryDelayMs * 2 ** Math.max(0, tryNumber - 1), task.maxRetryDelayMs);
}

/** The state a failed try leaves its task instance in, and when a retry may start. */
export interface FailureOutcome {
  state: Extract<TaskState, 'up_for_retry' | 'failed'>;
  retryAt: Date | null;
}

/**
 * Record a failed try: `up_for_retry` (with its retry time) while tries remain and `retry` is
 * allowed, otherwise `failed`. Conditional on the instance still running this try; returns null when
 * it no longer is.
 */
export async function recordFailure(
  ctx: EngineContext,
  ti: { id: number; tryNumber: number; maxTries: number },
  task: Pick<SerializedTask, 'retryDelayMs' | 'retryExponentialBackoff' | 'maxRetryDelayMs'>,
  error: ErrorInfo,
  retry = true,
  renderedArgsJson: string | null = null,
): Promise<FailureOutcome | null> {
  const willRetry = retry && ti.tryNumber < ti.maxTries;
  const retryAt = willRetry ? new Date(Date.now() + retryDelayMs(task, ti.tryNumber)) : null;
  const state = willRetry ? 'up_for_retry' : 'failed';
  const result = await sql<{ id: number }>`
    WITH done AS (
      UPDATE tributary.task_instance SET state = ${state}, end_date = now(), next_retry_at = ${retryAt}, updated_at = now(),
             rendered_args = coalesce(${renderedArgsJson}::jsonb, rendered_args)
       WHERE id = ${ti.id} AND state = 'running' AND try_number = ${ti.tryNumber}
      RETURNING id, end_date
    ), tried AS (
      UPDATE tributary.task_try t SET state = 'failed', end_date = d.end_date, error = ${JSON.stringify(error)}::jsonb,
             duration_ms = (extract(epoch FROM d.end_date - t.start_date) * 1000)::int
        FROM done d WHERE t.ti_id = d.id AND t.try_number = ${ti.tryNumber}
    )
    SELECT id FROM done`.execute(ctx.db);
  return result.rows.length > 0 ? { state, retryAt } : null;
}

/**
 * Move a task instance whose time has come — a retry (`up_for_retry`) or a sensor's next poke
 * (`up_for_reschedule`) — to `scheduled` and queue it (within pool and DAG limits). Returns false
 * when it is not (or no longer) due.
 */
export async function wakeRetry(ctx: EngineContext, tiId: number): Promise<boolean> {
  return withTransaction(ctx.db, async (trx) => {
    const woken = await sql<{ dag_id: string }>`
      UPDATE tributary.task_instance SET state = 'scheduled', next_retry_at = NULL, updated_at = now()
       WHERE id = ${tiId} AND state IN ('up_for_retry', 'up_for_reschedule') AND next_retry_at <= now() + interval '5 milliseconds'
      RETURNING dag_id`.execute(trx);
    const row = woken.rows[0];
    if (!row) return false;
    await queueScheduled(trx, ctx, [row.dag_id]);
    return true;
  });
}
