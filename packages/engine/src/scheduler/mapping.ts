import { sql, type Kysely, type Transaction } from 'kysely';
import { TaskMappingError, checkMapLength, mapLength, resolveExpandValues } from '../dag/mapping.js';
import type { SerializedTask } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { storedValue, type XcomStore } from '../storage/xcom-store.js';
import type { DagStructure, EngineContext } from './context.js';

/**
 * Results of tasks of a run, by task id: a task's return value, or for a mapped task the list of its
 * instances' results in map-index order (instances without a result left out, as in Airflow). Tasks
 * without a result are absent (a mapped task's list is then empty). Offloaded results are read back
 * through `xcom`.
 */
export async function loadTaskResults(
  db: Kysely<Database> | Transaction<Database>,
  xcom: XcomStore,
  runPk: number,
  taskIds: readonly string[],
  structure: DagStructure,
): Promise<Record<string, unknown>> {
  if (taskIds.length === 0) return {};
  const rows = await sql<{ task_id: string; map_index: number; value: unknown; offloaded: boolean }>`
    SELECT task_id, map_index, value, offloaded FROM tributary.xcom
     WHERE run_pk = ${runPk} AND task_id = ANY(${[...taskIds]}) AND key = 'return_value'
     ORDER BY task_id, map_index`.execute(db);
  const results: Record<string, unknown> = {};
  for (const id of taskIds) if (structure.tasks.get(id)?.expand) results[id] = [];
  for (const row of rows.rows) {
    const list = results[row.task_id];
    if (structure.tasks.get(row.task_id)?.expand) {
      if (row.map_index >= 0) (list as unknown[]).push(storedValue(row));
    } else if (row.map_index === -1) {
      results[row.task_id] = storedValue(row);
    }
  }
  return xcom.resolveAll(results, structure.serialized.dagId);
}

/** What expanding a mapped task came to: its instances scheduled, skipped (empty input) or failed. */
export type ExpansionOutcome = { state: 'scheduled'; instances: number } | { state: 'skipped' } | { state: 'failed' };

/**
 * Expand a mapped task whose dependencies are met: resolve its input lists (literal, or upstream
 * results), check the length against the cap, and create one `scheduled` instance per element (the
 * unmapped placeholder becomes instance 0; after a clear, instances past a shorter new length become
 * `removed`). An empty input skips the task; an invalid or too long one fails it with the error in
 * its try history and log. Concurrent expansions of the same task are harmless: every change is
 * conditional on the instances still having no state.
 */
export async function expandMappedTask(
  trx: Transaction<Database>,
  ctx: EngineContext,
  run: { id: number; dag_id: string },
  structure: DagStructure,
  task: SerializedTask,
): Promise<ExpansionOutcome> {
  const where = { dagId: run.dag_id, taskId: task.taskId };
  const sources = task.expand!;
  const upstreamIds = sources.flatMap((s) => ('upstream' in s ? [s.upstream] : []));
  let length: number;
  try {
    const values = resolveExpandValues(where, sources, await loadTaskResults(trx, ctx.xcom, run.id, upstreamIds, structure));
    length = mapLength(values);
    checkMapLength(where, length, task.maxMapLength ?? ctx.maxMapLength, task.maxMapLength === null ? 'engine' : 'task');
  } catch (error) {
    if (!(error instanceof TaskMappingError)) throw error;
    await failUnexpanded(trx, ctx, run.id, task.taskId, error);
    return { state: 'failed' };
  }
  if (length === 0) return { state: 'skipped' };
  await sql`
    UPDATE tributary.task_instance SET map_index = 0, updated_at = now()
     WHERE run_pk = ${run.id} AND task_id = ${task.taskId} AND map_index = -1 AND state IS NULL`.execute(trx);
  if (length > 1) {
    await sql`
      INSERT INTO tributary.task_instance
        (run_pk, dag_id, task_id, map_index, max_tries, pool, pool_slots, priority_weight, queue, operator)
      SELECT t.run_pk, t.dag_id, t.task_id, i, t.max_tries, t.pool, t.pool_slots, t.priority_weight, t.queue, t.operator
        FROM tributary.task_instance t, generate_series(1, ${length - 1}::int) AS i
       WHERE t.run_pk = ${run.id} AND t.task_id = ${task.taskId} AND t.map_index = 0
      ON CONFLICT (run_pk, task_id, map_index) DO NOTHING`.execute(trx);
  }
  const scheduled = await sql<{ n: number }>`
    WITH changed AS (
      UPDATE tributary.task_instance
         SET state = CASE WHEN map_index < ${length} THEN 'scheduled' ELSE 'removed' END,
             end_date = CASE WHEN map_index < ${length} THEN NULL ELSE now() END, updated_at = now()
       WHERE run_pk = ${run.id} AND task_id = ${task.taskId} AND map_index >= 0 AND state IS NULL
      RETURNING state
    )
    SELECT count(*) FILTER (WHERE state = 'scheduled')::int AS n FROM changed`.execute(trx);
  const instances = scheduled.rows[0]?.n ?? 0;
  if (instances > 0) ctx.log.debug({ dagId: run.dag_id, taskId: task.taskId, runPk: run.id, instances }, 'mapped task expanded');
  return { state: 'scheduled', instances };
}

/** Fail a mapped task that cannot expand, recording the error as a try with a log line. */
async function failUnexpanded(trx: Transaction<Database>, ctx: EngineContext, runPk: number, taskId: string, error: TaskMappingError): Promise<void> {
  const info = JSON.stringify({ name: error.name, message: error.message, code: error.code });
  const failed = await sql<{ id: number }>`
    WITH failed AS (
      UPDATE tributary.task_instance SET state = 'failed', try_number = try_number + 1, start_date = now(), end_date = now(), updated_at = now()
       WHERE run_pk = ${runPk} AND task_id = ${taskId} AND state IS NULL AND map_index = (
         SELECT min(map_index) FROM tributary.task_instance WHERE run_pk = ${runPk} AND task_id = ${taskId})
      RETURNING id, try_number
    ), tried AS (
      INSERT INTO tributary.task_try (ti_id, try_number, state, start_date, end_date, duration_ms, error)
      SELECT id, try_number, 'failed', now(), now(), 0, ${info}::jsonb FROM failed
    ), logged AS (
      INSERT INTO tributary.task_log (ti_id, try_number, logged_at, level, message)
      SELECT id, try_number, now(), 'error', ${`Mapping failed: ${error.message}`} FROM failed
    )
    SELECT id FROM failed`.execute(trx);
  // Further instances of an earlier expansion (the task was cleared) no longer exist.
  await sql`
    UPDATE tributary.task_instance SET state = 'removed', end_date = now(), updated_at = now()
     WHERE run_pk = ${runPk} AND task_id = ${taskId} AND state IS NULL`.execute(trx);
  if (failed.rows.length > 0) ctx.log.warn({ runPk, taskId, err: error.message }, 'mapped task failed to expand');
}
