import { sql, type Kysely } from 'kysely';
import type { Database, RunState } from '../db/schema.js';

/** A recent run of a DAG, as the DAG list shows it. */
export interface RecentRun {
  runId: string;
  state: RunState;
  logicalDate: Date;
  startDate: Date | null;
  endDate: Date | null;
}

/**
 * The latest `perDag` runs (newest first) of each of `dagIds`: one index scan per DAG through a
 * lateral join, so a page of a hundred DAGs costs a hundred small lookups however many runs exist.
 */
export async function recentRunsByDag(db: Kysely<Database>, dagIds: readonly string[], perDag = 10): Promise<Map<string, RecentRun[]>> {
  const result = new Map<string, RecentRun[]>(dagIds.map((id) => [id, []]));
  if (dagIds.length === 0) return result;
  const rows = await sql<{ dag_id: string; run_id: string; state: RunState; logical_date: Date; start_date: Date | null; end_date: Date | null }>`
    SELECT d.dag_id, r.run_id, r.state, r.logical_date, r.start_date, r.end_date
      FROM unnest(${[...dagIds]}::text[]) AS d(dag_id)
     CROSS JOIN LATERAL (SELECT run_id, state, logical_date, start_date, end_date FROM tributary.dag_run
                          WHERE dag_id = d.dag_id ORDER BY id DESC LIMIT ${perDag}) r`.execute(db);
  for (const r of rows.rows) {
    result.get(r.dag_id)!.push({ runId: r.run_id, state: r.state, logicalDate: r.logical_date, startDate: r.start_date, endDate: r.end_date });
  }
  return result;
}
