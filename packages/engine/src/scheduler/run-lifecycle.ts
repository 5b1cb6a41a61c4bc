import { sql, type Kysely, type Transaction } from 'kysely';
import { validateParams } from '../dag/params.js';
import type { DataInterval, RunType } from '../dag/types.js';
import type { Database, DagRunRow, RunState } from '../db/schema.js';
import { perOwner } from '../db/batcher.js';
import { StatisticsRefresher } from '../db/statistics.js';
import { withTransaction } from '../db/transaction.js';
import { InvalidStateError, NotFoundError, TributaryError } from '../errors.js';
import { advanceRun, advanceRuns, type AdvanceRequest } from './advance.js';
import type { DagStructure, EngineContext } from './context.js';
import { deadlineFor } from './deadlines.js';
import { callbackRunOf } from '../callback/callback-runner.js';

/** What a new run is. */
export interface NewRun {
  dagId: string;
  runType: RunType;
  /** Defaults to `<runType>__<logical date ISO>`. */
  runId?: string;
  logicalDate: Date;
  dataInterval: DataInterval;
  /** Params; validated against the DAG's schema, defaults applied. */
  params?: unknown;
  /** Send every task of the run to this worker queue (used by `dags test`). */
  queueOverride?: string;
  triggeredBy?: string;
  /**
   * The backfill creating the run: it waits `queued` and starts within the backfill's own
   * `maxActiveRuns` (the DAG's does not apply to it).
   */
  backfillId?: number;
  /**
   * The logical date is simply the moment of a trigger, not a chosen date: it is not checked for
   * uniqueness (runs triggered in the same millisecond may share it). Any other logical date is
   * refused when a run of the DAG (other than a test run) already has it.
   */
  logicalDateIsNow?: boolean;
}

/** A run was requested with an id, or a logical date, that another run of the DAG already has. */
export class RunExistsError extends TributaryError {
  constructor(dagId: string, runId: string, logicalDate: Date) {
    super('RUN_EXISTS', `DAG '${dagId}': a run with id '${runId}' or logical date ${logicalDate.toISOString()} already exists`, {
      location: { dagId },
    });
  }
}

/** Planner statistics of the metadata tables, refreshed after runs with many task instances. */
const taskInstanceStatistics = perOwner((db: Kysely<Database>) => new StatisticsRefresher((table) => sql.raw(`ANALYZE ${table}`).execute(db)));

/** The default run id of a run type and logical date, as Airflow forms it. */
export function defaultRunId(runType: RunType, logicalDate: Date): string {
  return `${runType}__${logicalDate.toISOString()}`;
}

async function lockDagRuns(trx: Transaction<Database>, dagId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`tributary.dag-runs:${dagId}`}, 0))`.execute(trx);
}

/**
 * Create a run of a DAG's latest version with all its task instances. It starts `running` (root tasks
 * queued at once) when the DAG has fewer than `maxActiveRuns` running runs, otherwise it waits
 * `queued`. Params are validated first; nothing is written when they are invalid.
 */
export function createRun(ctx: EngineContext, input: NewRun): Promise<DagRunRow> {
  return withTransaction(ctx.db, (trx) => createRunInTransaction(trx, ctx, input));
}

/**
 * {@link createRun} inside the caller's transaction (so a run and what caused it commit together).
 * Throws `RunExistsError` when the run id or the logical date is taken.
 */
export async function createRunInTransaction(trx: Transaction<Database>, ctx: EngineContext, input: NewRun): Promise<DagRunRow> {
  const dag = await trx
    .selectFrom('tributary.dag')
    .select(['dag_id', 'is_active', 'is_paused', 'latest_version_id', 'max_active_runs'])
    .where('dag_id', '=', input.dagId)
    .executeTakeFirst();
  if (!dag || dag.latest_version_id === null) throw new NotFoundError(`DAG '${input.dagId}'`, { dagId: input.dagId });
  if (!dag.is_active) {
    throw new InvalidStateError('is not active (its file is gone or no longer defines it)', { dagId: input.dagId });
  }
  const structure = await ctx.versions.get(dag.latest_version_id, trx);
  const conf = validateParams(input.dagId, structure.serialized.params, input.params);
  const runId = input.runId ?? defaultRunId(input.runType, input.logicalDate);

  await lockDagRuns(trx, input.dagId);
  if (input.runType !== 'test' && !input.logicalDateIsNow) {
    // Under the DAG's run lock: a schedule, a backfill and a trigger never duplicate a logical date.
    const taken = await sql<{ one: number }>`
      SELECT 1 AS one FROM tributary.dag_run
       WHERE dag_id = ${input.dagId} AND logical_date = ${input.logicalDate} AND run_type <> 'test' LIMIT 1`.execute(trx);
    if (taken.rows.length > 0) throw new RunExistsError(input.dagId, runId, input.logicalDate);
  }
  // A run of `dags test` starts at once, whatever the DAG's pause and run limits; a backfill's runs
  // are started by startQueuedRuns within the backfill's limit.
  let canStart = input.runType === 'test';
  if (!canStart && input.backfillId === undefined && !dag.is_paused) {
    const running = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tributary.dag_run
       WHERE dag_id = ${input.dagId} AND state = 'running' AND backfill_id IS NULL`.execute(trx);
    canStart = (running.rows[0]?.n ?? 0) < dag.max_active_runs;
  }
  const now = new Date();
  const deadlineAt = structure.serialized.deadline
    ? deadlineFor(structure.serialized, { runType: input.runType, logicalDate: input.logicalDate, dataIntervalEnd: input.dataInterval.end, queuedAt: now })
    : null;
  const inserted = await trx
    .insertInto('tributary.dag_run')
    .values({
      dag_id: input.dagId,
      run_id: runId,
      dag_version_id: structure.versionId,
      run_type: input.runType,
      state: canStart ? 'running' : 'queued',
      logical_date: input.logicalDate,
      data_interval_start: input.dataInterval.start,
      data_interval_end: input.dataInterval.end,
      conf: JSON.stringify(conf),
      queue_override: input.queueOverride ?? null,
      triggered_by: input.triggeredBy ?? null,
      backfill_id: input.backfillId ?? null,
      queued_at: now,
      start_date: canStart ? now : null,
      ...(deadlineAt ? { deadline_at: deadlineAt } : {}),
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) throw new RunExistsError(input.dagId, runId, input.logicalDate);
  const tasks = structure.serialized.tasks;
  await sql`
    INSERT INTO tributary.task_instance
      (run_pk, dag_id, task_id, max_tries, pool, pool_slots, priority_weight, queue, operator)
    SELECT ${inserted.id}, ${input.dagId}, t.task_id, t.max_tries, t.pool, t.pool_slots, t.priority, t.queue, t.operator
      FROM unnest(${tasks.map((t) => t.taskId)}::text[], ${tasks.map((t) => t.retries + 1)}::int[],
                  ${tasks.map((t) => t.pool)}::text[], ${tasks.map((t) => t.poolSlots)}::int[],
                  ${tasks.map((t) => t.effectivePriority)}::int[], ${tasks.map((t) => t.queue)}::text[],
                  ${tasks.map((t) => t.operator ?? (t.kind === 'function' ? 'function' : null))}::text[])
        AS t(task_id, max_tries, pool, pool_slots, priority, queue, operator)
  `.execute(trx);
  taskInstanceStatistics(ctx.db).note('tributary.task_instance', tasks.length);
  if (canStart) await advanceRun(trx, ctx, inserted, structure, structure.roots);
  return inserted;
}

/**
 * Start queued runs of a DAG, oldest logical date first (newest first for a backfill run backwards),
 * unless it is paused: runs of no backfill while the DAG has fewer than `maxActiveRuns` of them
 * running, and each backfill's runs while it has fewer than its own `maxActiveRuns` running.
 * Returns how many started.
 */
export async function startQueuedRuns(ctx: EngineContext, dagId: string): Promise<number> {
  return withTransaction(ctx.db, async (trx) => {
    await lockDagRuns(trx, dagId);
    const dag = await trx
      .selectFrom('tributary.dag')
      .select(['max_active_runs', 'is_paused'])
      .where('dag_id', '=', dagId)
      .executeTakeFirst();
    if (!dag || dag.is_paused) return 0;
    const started = await sql<{ id: number; dag_id: string; dag_version_id: number }>`
      WITH own AS (
        SELECT id FROM tributary.dag_run
         WHERE dag_id = ${dagId} AND state = 'queued' AND backfill_id IS NULL
         ORDER BY logical_date, id
         LIMIT greatest(0, ${dag.max_active_runs} - (SELECT count(*) FROM tributary.dag_run
                                                     WHERE dag_id = ${dagId} AND state = 'running' AND backfill_id IS NULL))
      ), backfills AS (
        SELECT b.id, b.run_backwards,
               b.max_active_runs - (SELECT count(*) FROM tributary.dag_run r WHERE r.backfill_id = b.id AND r.state = 'running') AS room
          FROM tributary.backfill b
         WHERE b.id IN (SELECT backfill_id FROM tributary.dag_run WHERE dag_id = ${dagId} AND state = 'queued' AND backfill_id IS NOT NULL)
      ), backfilled AS (
        SELECT r.id, b.room,
               row_number() OVER (PARTITION BY r.backfill_id
                                  ORDER BY CASE WHEN b.run_backwards THEN NULL ELSE r.logical_date END, r.logical_date DESC, r.id) AS n
          FROM tributary.dag_run r JOIN backfills b ON b.id = r.backfill_id
         WHERE r.dag_id = ${dagId} AND r.state = 'queued'
      )
      UPDATE tributary.dag_run SET state = 'running', start_date = now()
       WHERE id IN (SELECT id FROM own UNION ALL SELECT id FROM backfilled WHERE n <= room)
      RETURNING id, dag_id, dag_version_id`.execute(trx);
    // Every task, not only the roots: a cleared run resumes in the middle.
    const requests: AdvanceRequest[] = [];
    for (const run of started.rows) requests.push({ run, structure: await ctx.versions.get(run.dag_version_id, trx), candidates: 'all' });
    if (requests.length > 0) await advanceRuns(trx, ctx, requests);
    return started.rows.length;
  });
}

/**
 * Settle running runs once none of their task instances can change any more: `failed` when a leaf
 * task failed or was upstream_failed, otherwise `success` (Airflow's rule). Then start the DAGs' next
 * queued runs. A few statements for any number of runs. Returns the new state of each run settled
 * (runs not finished, or already settled, are absent).
 */
/** Start the DAG's callbacks for a run that just finished (in this process, which settled it). */
function startRunCallbacks(ctx: EngineContext, structure: DagStructure, runPk: number, state: RunState): void {
  const callbacks = ctx.callbacks!;
  callbacks.start(async () => {
    const run = await ctx.db
      .selectFrom('tributary.dag_run')
      .select(['dag_id', 'run_id', 'run_type', 'logical_date', 'data_interval_start', 'data_interval_end', 'conf'])
      .where('id', '=', runPk)
      .executeTakeFirstOrThrow();
    const failed =
      state === 'failed'
        ? await sql<{ task_id: string; map_index: number }>`
            SELECT task_id, map_index FROM tributary.task_instance
             WHERE run_pk = ${runPk} AND state IN ('failed', 'upstream_failed') ORDER BY task_id, map_index`.execute(ctx.db)
        : { rows: [] };
    await callbacks.runDagCallbacks({
      ...callbackRunOf(structure.serialized.file, run),
      kind: state === 'success' ? 'success' : 'failure',
      state: state === 'success' ? 'success' : 'failed',
      failedTasks: failed.rows.map((r) => (r.map_index >= 0 ? `${r.task_id}[${r.map_index}]` : r.task_id)),
    });
  });
}

export async function finishRunsIfDone(ctx: EngineContext, runPks: readonly number[]): Promise<Map<number, RunState>> {
  const settled = new Map<number, RunState>();
  if (runPks.length === 0) return settled;
  const done = await sql<{ id: number; dag_id: string; dag_version_id: number }>`
    SELECT r.id, r.dag_id, r.dag_version_id FROM tributary.dag_run r
     WHERE r.id = ANY(${[...new Set(runPks)]}::bigint[]) AND r.state = 'running'
       AND NOT EXISTS (SELECT 1 FROM tributary.task_instance t
                        WHERE t.run_pk = r.id
                          AND (t.state IS NULL OR t.state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed')))`.execute(ctx.db);
  if (done.rows.length === 0) return settled;
  const failed = await sql<{ run_pk: number; task_id: string }>`
    SELECT DISTINCT run_pk, task_id FROM tributary.task_instance
     WHERE run_pk = ANY(${done.rows.map((r) => r.id)}::bigint[]) AND state IN ('failed', 'upstream_failed')`.execute(ctx.db);
  const failedTasks = new Map<number, Set<string>>();
  for (const row of failed.rows) {
    const set = failedTasks.get(Number(row.run_pk)) ?? new Set<string>();
    set.add(row.task_id);
    failedTasks.set(Number(row.run_pk), set);
  }
  const states: RunState[] = [];
  const structures = new Map<number, DagStructure>();
  for (const run of done.rows) {
    const structure = await ctx.versions.get(run.dag_version_id);
    structures.set(Number(run.id), structure);
    const failedHere = failedTasks.get(run.id);
    states.push(failedHere && structure.leaves.some((leaf) => failedHere.has(leaf)) ? 'failed' : 'success');
  }
  const updated = await sql<{ id: number; dag_id: string; state: RunState }>`
    UPDATE tributary.dag_run r SET state = v.state, end_date = now()
      FROM unnest(${done.rows.map((r) => r.id)}::bigint[], ${states}::text[]) AS v(id, state)
     WHERE r.id = v.id AND r.state = 'running'
    RETURNING r.id, r.dag_id, r.state`.execute(ctx.db);
  for (const row of updated.rows) {
    settled.set(Number(row.id), row.state);
    ctx.log.info({ dagId: row.dag_id, runPk: row.id, state: row.state }, 'run finished');
    // Only the process whose update settled the run gets here: its DAG callbacks run once.
    const structure = structures.get(Number(row.id));
    if (ctx.callbacks && structure?.serialized.callbacks?.includes(row.state === 'success' ? 'success' : 'failure')) {
      startRunCallbacks(ctx, structure, Number(row.id), row.state);
    }
  }
  const dags = [...new Set(updated.rows.map((r) => r.dag_id))];
  if (dags.length > 0) {
    const withQueued = await sql<{ dag_id: string }>`
      SELECT DISTINCT dag_id FROM tributary.dag_run WHERE dag_id = ANY(${dags}::text[]) AND state = 'queued'`.execute(ctx.db);
    for (const row of withQueued.rows) await startQueuedRuns(ctx, row.dag_id);
  }
  return settled;
}

/**
 * Settle a running run once none of its task instances can change any more (see
 * {@link finishRunsIfDone}). Returns the new state, or null when the run is not finished (or already
 * settled).
 */
export async function finishRunIfDone(ctx: EngineContext, runPk: number): Promise<RunState | null> {
  return (await finishRunsIfDone(ctx, [runPk])).get(runPk) ?? null;
}
