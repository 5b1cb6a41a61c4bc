import { sql, type Kysely } from 'kysely';
import { validateParams } from '../dag/params.js';
import type { DataInterval } from '../dag/types.js';
import type { BackfillRow, BackfillRunOutcome, BackfillState, Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, InvalidStateError, NotFoundError } from '../errors.js';
import { BACKFILL_REPROCESS, backfillAction, type BackfillAction, type BackfillReprocess, type ExistingRunState } from '../schedule/backfill.js';
import { intervalsBetween, parseDateInZone, parseSchedule } from '../schedule/schedule.js';
import type { EngineContext } from '../scheduler/context.js';
import { startQueuedRuns } from '../scheduler/run-lifecycle.js';
import { recordAudit, type Actor } from './audit.js';

/** What to backfill. */
export interface BackfillRequest {
  dagId: string;
  /** First logical date covered; a string without an offset is read in the DAG's time zone. */
  from: Date | string;
  /** Last logical date covered (inclusive). */
  to: Date | string;
  /**
   * Which existing runs to run again: none, failed ones, or every completed one. Queued and running
   * runs are never touched.
   * @defaultValue `'none'`
   */
  reprocess?: BackfillReprocess;
  /**
   * Runs of this backfill running at once (independent of the DAG's own `maxActiveRuns`).
   * @defaultValue the DAG's `maxActiveRuns`
   */
  maxActiveRuns?: number;
  /**
   * Newest interval first.
   * @defaultValue false
   */
  runBackwards?: boolean;
  /** Params of every run, validated against the DAG's schema. */
  params?: unknown;
  /** Only compute the plan; write nothing. */
  dryRun?: boolean;
}

/** One interval of a backfill plan, with what the backfill would do with it now. */
export interface PlannedBackfillRun {
  logicalDate: Date;
  dataInterval: DataInterval;
  action: BackfillAction;
  /** The run already holding this logical date. */
  existing: { runId: string; state: ExistingRunState } | null;
}

/** A backfill and how far it got. */
export interface BackfillSummary {
  id: number;
  dagId: string;
  from: Date;
  to: Date;
  reprocess: BackfillReprocess;
  maxActiveRuns: number;
  runBackwards: boolean;
  state: BackfillState;
  createdBy: string | null;
  createdAt: Date;
  completedAt: Date | null;
  /** Intervals by outcome so far. */
  outcomes: Record<BackfillRunOutcome, number>;
  /** Its runs queued or running now. */
  activeRuns: number;
}

/** Result of {@link createBackfill}: the plan, and the backfill (null for a dry run). */
export interface BackfillCreation {
  backfill: BackfillSummary | null;
  plan: PlannedBackfillRun[];
  /** True when the DAG is paused: the backfill's runs wait until it is unpaused. */
  dagPaused: boolean;
}

/**
 * Plan a backfill of a DAG over a range of logical dates and, unless `dryRun`, store it: the
 * scheduler then carries it out (whoever created it may go away), creating runs of type `backfill`
 * or clearing existing ones per `reprocess`, at most `maxActiveRuns` at a time. A DAG has at most
 * one running backfill. Throws `InvalidInputError` naming the bad field, `NotFoundError`,
 * `AlreadyExistsError`, `ParamsValidationError`.
 */
export async function createBackfill(ctx: EngineContext, request: BackfillRequest, actor: Actor): Promise<BackfillCreation> {
  const dag = await ctx.db
    .selectFrom('tributary.dag')
    .select(['dag_id', 'is_active', 'is_paused', 'latest_version_id', 'max_active_runs'])
    .where('dag_id', '=', request.dagId)
    .executeTakeFirst();
  if (!dag || dag.latest_version_id === null) {
    throw new NotFoundError(`DAG '${request.dagId}'`, { dagId: request.dagId }, 'is the DAG folder parsed (tributary dags list)?');
  }
  if (!dag.is_active) throw new InvalidStateError('is not active (its file is gone or no longer defines it)', { dagId: dag.dag_id });
  const s = (await ctx.versions.get(dag.latest_version_id)).serialized;
  const reprocess = request.reprocess ?? 'none';
  if (!BACKFILL_REPROCESS.includes(reprocess)) {
    throw new InvalidInputError('reprocess', `expected one of ${BACKFILL_REPROCESS.join(', ')}, got '${String(reprocess)}'`);
  }
  const maxActiveRuns = request.maxActiveRuns ?? dag.max_active_runs;
  // The column is a 32-bit integer.
  if (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1 || maxActiveRuns > 2_147_483_647) {
    throw new InvalidInputError('maxActiveRuns', `expected an integer from 1 to 2147483647, got ${JSON.stringify(request.maxActiveRuns)}`);
  }
  const range = { from: dateOf(request, 'from', s.timezone), to: dateOf(request, 'to', s.timezone) };
  if (range.to.getTime() < range.from.getTime()) throw new InvalidInputError('to', `is before from (${range.from.toISOString()})`);
  const conf = validateParams(dag.dag_id, s.params, request.params);

  let intervals: DataInterval[];
  try {
    intervals = intervalsBetween(parseSchedule(s.schedule, s.timezone), { timezone: s.timezone, startDate: s.startDate ? new Date(s.startDate) : null }, range, new Date());
  } catch (error) {
    throw new InvalidStateError(`cannot be backfilled: ${(error as Error).message}`, { dagId: dag.dag_id });
  }
  if (request.runBackwards) intervals.reverse();
  const plan = await planRuns(ctx.db, dag.dag_id, intervals, reprocess);
  if (request.dryRun) return { backfill: null, plan, dagPaused: dag.is_paused };

  const id = await withTransaction(ctx.db, async (trx) => {
    const running = await trx.selectFrom('tributary.backfill').select('id').where('dag_id', '=', dag.dag_id).where('state', '=', 'running').executeTakeFirst();
    if (running) throw new AlreadyExistsError(`a running backfill (id ${running.id}) of DAG '${dag.dag_id}'`, { dagId: dag.dag_id });
    const inserted = await trx
      .insertInto('tributary.backfill')
      .values({
        dag_id: dag.dag_id,
        from_date: range.from,
        to_date: range.to,
        reprocess,
        max_active_runs: maxActiveRuns,
        run_backwards: request.runBackwards ?? false,
        conf: JSON.stringify(conf),
        state: intervals.length === 0 ? 'completed' : 'running',
        created_by: actor.name,
        completed_at: intervals.length === 0 ? new Date() : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (intervals.length > 0) {
      await sql`
        INSERT INTO tributary.backfill_run (backfill_id, sort_ordinal, logical_date, data_interval_start, data_interval_end, outcome)
        SELECT ${inserted.id}, n, s, s, e, 'pending'
          FROM unnest(${intervals.map((i) => i.start)}::timestamptz[], ${intervals.map((i) => i.end)}::timestamptz[]) WITH ORDINALITY AS u(s, e, n)`.execute(trx);
    }
    await recordAudit(trx, actor, {
      action: 'backfill_create',
      dagId: dag.dag_id,
      details: { backfillId: inserted.id, from: range.from, to: range.to, reprocess, maxActiveRuns, intervals: intervals.length },
    });
    return inserted.id;
  }).catch((error: unknown) => {
    // Two backfills created at the same moment: the unique index lets only one be running.
    if ((error as { code?: string }).code === '23505') {
      throw new AlreadyExistsError(`a running backfill of DAG '${dag.dag_id}'`, { dagId: dag.dag_id });
    }
    throw error;
  });
  return { backfill: await getBackfill(ctx.db, id), plan, dagPaused: dag.is_paused };
}

function dateOf(request: BackfillRequest, field: 'from' | 'to', timezone: string): Date {
  const parsed = parseDateInZone(request[field], timezone);
  if (parsed === null) throw new InvalidInputError(field, `expected a Date or an ISO 8601 date, got ${JSON.stringify(request[field])}`);
  return parsed;
}

async function planRuns(db: Kysely<Database>, dagId: string, intervals: readonly DataInterval[], reprocess: BackfillReprocess): Promise<PlannedBackfillRun[]> {
  if (intervals.length === 0) return [];
  const existing = await sql<{ logical_date: Date; run_id: string; state: Exclude<ExistingRunState, null> }>`
    SELECT logical_date, run_id, state FROM tributary.dag_run
     WHERE dag_id = ${dagId} AND run_type <> 'test' AND logical_date = ANY(${intervals.map((i) => i.start)}::timestamptz[])`.execute(db);
  const byDate = new Map(existing.rows.map((r) => [r.logical_date.getTime(), r]));
  return intervals.map((interval) => {
    const run = byDate.get(interval.start.getTime());
    return {
      logicalDate: interval.start,
      dataInterval: interval,
      action: backfillAction(run?.state ?? null, reprocess),
      existing: run ? { runId: run.run_id, state: run.state } : null,
    };
  });
}

const BACKFILL_SUMMARY = sql`
  SELECT b.*,
         (SELECT coalesce(jsonb_object_agg(o.outcome, o.n), '{}') FROM
            (SELECT outcome, count(*) AS n FROM tributary.backfill_run WHERE backfill_id = b.id GROUP BY outcome) o) AS outcomes,
         (SELECT count(*)::int FROM tributary.dag_run r WHERE r.backfill_id = b.id AND r.state IN ('queued', 'running')) AS active_runs
    FROM tributary.backfill b`;

type SummaryRow = BackfillRow & { outcomes: Partial<Record<BackfillRunOutcome, number>>; active_runs: number };

function toSummary(row: SummaryRow): BackfillSummary {
  return {
    id: Number(row.id),
    dagId: row.dag_id,
    from: row.from_date,
    to: row.to_date,
    reprocess: row.reprocess,
    maxActiveRuns: row.max_active_runs,
    runBackwards: row.run_backwards,
    state: row.state,
    createdBy: row.created_by,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    outcomes: { pending: 0, created: 0, cleared: 0, exists: 0, in_flight: 0, cancelled: 0, ...row.outcomes },
    activeRuns: row.active_runs,
  };
}

/** One backfill by id. Throws `NotFoundError`. */
export async function getBackfill(db: Kysely<Database>, id: number): Promise<BackfillSummary> {
  const rows = await sql<SummaryRow>`${BACKFILL_SUMMARY} WHERE b.id = ${id}`.execute(db);
  if (!rows.rows[0]) throw new NotFoundError(`backfill ${id}`);
  return toSummary(rows.rows[0]);
}

/** Which backfills {@link listBackfills} and {@link countBackfills} read. */
export interface BackfillFilter {
  /** Only backfills of this DAG. */
  dagId?: string;
  /** Only those still running. @defaultValue false */
  runningOnly?: boolean;
}

function backfillWhere(filter: BackfillFilter) {
  return sql`${filter.dagId === undefined ? sql`true` : sql`b.dag_id = ${filter.dagId}`}
      AND ${filter.runningOnly ? sql`b.state = 'running'` : sql`true`}`;
}

/** Backfills, newest first; of one DAG, or only those still running, when asked. */
export async function listBackfills(
  db: Kysely<Database>,
  filter: BackfillFilter & { /** @defaultValue 100 */ limit?: number; /** @defaultValue 0 */ offset?: number } = {},
): Promise<BackfillSummary[]> {
  const rows = await sql<SummaryRow>`${BACKFILL_SUMMARY}
    WHERE ${backfillWhere(filter)}
    ORDER BY b.id DESC LIMIT ${filter.limit ?? 100} OFFSET ${filter.offset ?? 0}`.execute(db);
  return rows.rows.map(toSummary);
}

/** How many backfills {@link listBackfills} would find with no limit. */
export async function countBackfills(db: Kysely<Database>, filter: BackfillFilter = {}): Promise<number> {
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM tributary.backfill b WHERE ${backfillWhere(filter)}`.execute(db);
  return Number(rows.rows[0]?.n ?? 0);
}

/**
 * Cancel a running backfill: it creates no more runs, its runs that have not started yet fail
 * (their task instances skipped), and those already running finish normally.
 * Throws `NotFoundError`, or `InvalidStateError` when it is not running.
 */
export async function cancelBackfill(ctx: EngineContext, id: number, actor: Actor): Promise<BackfillSummary> {
  const dagId = await withTransaction(ctx.db, async (trx) => {
    const backfill = await trx.selectFrom('tributary.backfill').select(['dag_id', 'state']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!backfill) throw new NotFoundError(`backfill ${id}`);
    if (backfill.state !== 'running') throw new InvalidStateError(`backfill ${id} is already ${backfill.state}`, { dagId: backfill.dag_id });
    await trx.updateTable('tributary.backfill').set({ state: 'cancelled', completed_at: new Date() }).where('id', '=', id).execute();
    await trx.updateTable('tributary.backfill_run').set({ outcome: 'cancelled' }).where('backfill_id', '=', id).where('outcome', '=', 'pending').execute();
    const stopped = await sql<{ id: number }>`
      UPDATE tributary.dag_run SET state = 'failed', end_date = now()
       WHERE backfill_id = ${id} AND state = 'queued' RETURNING id`.execute(trx);
    if (stopped.rows.length > 0) {
      await sql`
        UPDATE tributary.task_instance SET state = 'skipped', end_date = now(), updated_at = now()
         WHERE run_pk = ANY(${stopped.rows.map((r) => r.id)}::bigint[])
           AND (state IS NULL OR state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed'))`.execute(trx);
    }
    await recordAudit(trx, actor, { action: 'backfill_cancel', dagId: backfill.dag_id, details: { backfillId: id, runsStopped: stopped.rows.length } });
    return backfill.dag_id;
  });
  await startQueuedRuns(ctx, dagId);
  return getBackfill(ctx.db, id);
}
