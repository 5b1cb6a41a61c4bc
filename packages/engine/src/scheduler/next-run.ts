import { sql } from 'kysely';
import { nextScheduledRun, parseSchedule } from '../schedule/schedule.js';
import type { EngineContext } from './context.js';

/**
 * Compute and store the next scheduled run of DAGs whose timetable changed or whose last scheduled run
 * was just created. Several schedulers may run this at once (rows are claimed with SKIP LOCKED).
 */
export async function computeNextRuns(ctx: EngineContext, now = new Date()): Promise<number> {
  return ctx.db.transaction().execute(async (trx) => {
    const dags = await sql<{ dag_id: string; latest_version_id: number }>`
      SELECT dag_id, latest_version_id FROM tributary.dag
       WHERE needs_next_run AND latest_version_id IS NOT NULL
       ORDER BY dag_id LIMIT 200 FOR NO KEY UPDATE SKIP LOCKED`.execute(trx);
    for (const dag of dags.rows) {
      const s = (await ctx.versions.get(dag.latest_version_id, trx)).serialized;
      let next = null;
      if (s.schedule !== null) {
        const last = await sql<{ start: Date; end: Date }>`
          SELECT data_interval_start AS start, data_interval_end AS end FROM tributary.dag_run
           WHERE dag_id = ${dag.dag_id} AND run_type = 'scheduled'
           ORDER BY data_interval_end DESC, id DESC LIMIT 1`.execute(trx);
        const schedule = parseSchedule(s.schedule, s.timezone);
        const bounds = {
          startDate: s.startDate ? new Date(s.startDate) : null,
          endDate: s.endDate ? new Date(s.endDate) : null,
          catchup: s.catchup,
          timezone: s.timezone,
        };
        next = nextScheduledRun(schedule, bounds, last.rows[0] ?? null, now);
        // A backfill (or a manual run given that logical date) may hold the next interval already:
        // step past it instead of failing to create it on every pass.
        for (let guard = 0; next !== null && guard < 1000; guard++) {
          const taken = await sql<{ one: number }>`
            SELECT 1 AS one FROM tributary.dag_run
             WHERE dag_id = ${dag.dag_id} AND logical_date = ${next.logicalDate} AND run_type <> 'test' LIMIT 1`.execute(trx);
          if (taken.rows.length === 0) break;
          next = nextScheduledRun(schedule, bounds, next.dataInterval, now);
        }
      }
      await trx
        .updateTable('tributary.dag')
        .set({
          needs_next_run: false,
          next_run_after: next?.runAfter ?? null,
          next_logical_date: next?.logicalDate ?? null,
          next_interval_start: next?.dataInterval.start ?? null,
          next_interval_end: next?.dataInterval.end ?? null,
        })
        .where('dag_id', '=', dag.dag_id)
        .execute();
    }
    return dags.rows.length;
  });
}
