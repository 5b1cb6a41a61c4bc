import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { assetConditionMet } from '../schedule/assets.js';
import { parseSchedule } from '../schedule/schedule.js';
import type { EngineContext } from './context.js';
import { RunExistsError, createRunInTransaction } from './run-lifecycle.js';

interface QueueRow {
  asset_id: string | number;
  uri: string;
  first_event_id: string | number;
  last_event_id: string | number;
}

async function queueRows(executor: Transaction<Database> | EngineContext['db'], dagId: string, lock: boolean): Promise<QueueRow[]> {
  const rows = lock
    ? await sql<QueueRow>`
        SELECT q.asset_id, a.uri, q.first_event_id, q.last_event_id
          FROM tributary.asset_dag_queue q JOIN tributary.asset a ON a.id = q.asset_id
         WHERE q.dag_id = ${dagId} ORDER BY q.asset_id FOR UPDATE OF q`.execute(executor)
    : await sql<QueueRow>`
        SELECT q.asset_id, a.uri, q.first_event_id, q.last_event_id
          FROM tributary.asset_dag_queue q JOIN tributary.asset a ON a.id = q.asset_id
         WHERE q.dag_id = ${dagId}`.execute(executor);
  return rows.rows;
}

/**
 * Create an `asset_triggered` run for every unpaused asset-scheduled DAG whose asset condition holds
 * for the assets updated since its last asset-triggered run (Airflow's semantics: every named asset
 * for a list, `any`/`all` for conditions). The run consumes the DAG's queue — every asset event
 * queued for it is linked to the run — in the transaction that creates it, under row locks on the
 * queue, so several schedulers never create two runs for the same events. Paused DAGs keep their
 * queue and run once unpaused. Returns how many runs were created.
 */
export async function createAssetTriggeredRuns(ctx: EngineContext): Promise<number> {
  const candidates = await sql<{ dag_id: string; latest_version_id: number }>`
    SELECT d.dag_id, d.latest_version_id FROM tributary.dag d
     WHERE d.dag_id IN (SELECT DISTINCT dag_id FROM tributary.asset_dag_queue)
       AND d.is_active AND NOT d.is_paused AND d.latest_version_id IS NOT NULL AND d.asset_triggers <> '{}'
     ORDER BY d.dag_id LIMIT 500`.execute(ctx.db);
  let created = 0;
  for (const dag of candidates.rows) {
    const structure = await ctx.versions.get(dag.latest_version_id);
    const schedule = parseSchedule(structure.serialized.schedule, structure.serialized.timezone);
    if (schedule.kind !== 'assets') continue;
    // Evaluate without locks first: most passes find conditions not met yet.
    const seen = await queueRows(ctx.db, dag.dag_id, false);
    if (!assetConditionMet(schedule.condition, new Set(seen.map((r) => r.uri)))) continue;
    try {
      const made = await withTransaction(ctx.db, async (trx) => {
        const rows = await queueRows(trx, dag.dag_id, true);
        // Another scheduler may have consumed the queue meanwhile: decide again on what is locked.
        if (!assetConditionMet(schedule.condition, new Set(rows.map((r) => r.uri)))) return false;
        const assetIds = rows.map((r) => Number(r.asset_id));
        const events = await sql<{ id: string | number; created_at: Date }>`
          SELECT e.id, e.created_at FROM tributary.asset_event e
            JOIN unnest(${assetIds}::bigint[], ${rows.map((r) => Number(r.first_event_id))}::bigint[], ${rows.map((r) => Number(r.last_event_id))}::bigint[])
                 AS q(asset_id, first_id, last_id)
              ON e.asset_id = q.asset_id AND e.id BETWEEN q.first_id AND q.last_id
           ORDER BY e.id`.execute(trx);
        const now = new Date();
        const times = events.rows.map((e) => e.created_at.getTime());
        const run = await createRunInTransaction(trx, ctx, {
          dagId: dag.dag_id,
          runType: 'asset_triggered',
          logicalDate: now,
          // The span of the events that triggered it (Airflow 2's asset-triggered data interval).
          dataInterval: { start: new Date(times.length ? Math.min(...times) : now.getTime()), end: new Date(times.length ? Math.max(...times) : now.getTime()) },
          triggeredBy: 'assets',
          logicalDateIsNow: true,
        });
        await sql`
          INSERT INTO tributary.dag_run_asset_event (run_pk, event_id)
          SELECT ${run.id}, unnest(${events.rows.map((e) => Number(e.id))}::bigint[])`.execute(trx);
        await sql`DELETE FROM tributary.asset_dag_queue WHERE dag_id = ${dag.dag_id} AND asset_id = ANY(${assetIds}::bigint[])`.execute(trx);
        ctx.log.info({ dagId: dag.dag_id, runId: run.run_id, events: events.rows.length }, 'asset-triggered run created');
        return true;
      });
      if (made) created++;
    } catch (error) {
      // A run id taken by a manual trigger in the same millisecond: the queue is kept, next pass retries.
      if (!(error instanceof RunExistsError)) ctx.log.error({ err: error, dagId: dag.dag_id }, 'creating an asset-triggered run failed');
    }
  }
  return created;
}
