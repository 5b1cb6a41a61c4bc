export { RunExistsError, createRun, createRunInTransaction, createRunsInTransaction, defaultRunId, type NewRun } from './create-runs.js';
import { sql } from 'kysely';
import type { RunState } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { advanceRuns, type AdvanceRequest } from './advance.js';
import { lockDagRuns } from './create-runs.js';
import type { DagStructure, EngineContext } from './context.js';
import { callbackRunOf } from '../callback/callback-runner.js';
import { executePrepared } from '../db/prepared.js';

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
    const started = await executePrepared(trx, sql<{ id: number; dag_id: string; dag_version_id: number }>`
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
      RETURNING id, dag_id, dag_version_id`);
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
        ? await executePrepared(ctx.db, sql<{ task_id: string; map_index: number }>`
            SELECT task_id, map_index FROM tributary.task_instance
             WHERE run_pk = ${runPk} AND state IN ('failed', 'upstream_failed') ORDER BY task_id, map_index`)
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
  const done = await executePrepared(ctx.db, sql<{ id: number; dag_id: string; dag_version_id: number }>`
    SELECT r.id, r.dag_id, r.dag_version_id FROM tributary.dag_run r
     WHERE r.id = ANY(${[...new Set(runPks)]}::bigint[]) AND r.state = 'running'
       AND NOT EXISTS (SELECT 1 FROM tributary.task_instance t
                        WHERE t.run_pk = r.id
                          AND (t.state IS NULL OR t.state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed')))`);
  if (done.rows.length === 0) return settled;
  const failed = await executePrepared(ctx.db, sql<{ run_pk: number; task_id: string }>`
    SELECT DISTINCT run_pk, task_id FROM tributary.task_instance
     WHERE run_pk = ANY(${done.rows.map((r) => r.id)}::bigint[]) AND state IN ('failed', 'upstream_failed')`);
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
  const updated = await executePrepared(ctx.db, sql<{ id: number; dag_id: string; state: RunState }>`
    UPDATE tributary.dag_run r SET state = v.state, end_date = now()
      FROM unnest(${done.rows.map((r) => r.id)}::bigint[], ${states}::text[]) AS v(id, state)
     WHERE r.id = v.id AND r.state = 'running'
    RETURNING r.id, r.dag_id, r.state`);
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
    const withQueued = await executePrepared(ctx.db, sql<{ dag_id: string }>`
      SELECT DISTINCT dag_id FROM tributary.dag_run WHERE dag_id = ANY(${dags}::text[]) AND state = 'queued'`);
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
