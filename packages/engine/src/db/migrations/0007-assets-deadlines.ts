import { sql, type Kysely } from 'kysely';

/**
 * Indexes for data-aware scheduling and deadline alerts: the scheduler's deadline check reads only
 * unfinished runs (a finished run leaves the index, so it does not grow with history), and the runs
 * an asset event triggered are found by event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS tributary.dag_run_deadline;
    CREATE INDEX dag_run_deadline_pending ON tributary.dag_run (deadline_at)
      WHERE deadline_at IS NOT NULL AND deadline_alerted_at IS NULL AND state IN ('queued', 'running');
    CREATE INDEX dag_run_asset_event_event ON tributary.dag_run_asset_event (event_id);
  `.execute(db);
}
