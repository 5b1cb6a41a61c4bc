import { sql, type Kysely, type Transaction } from 'kysely';
import type { AssetEventInfo } from '../dag/types.js';
import type { Database } from '../db/schema.js';

/** One asset event to record: the asset's URI and the JSON attached to it. */
export interface AssetEventInput {
  uri: string;
  extra: Record<string, unknown>;
}

/** The task instance that produced asset events; null for events created by hand. */
export interface AssetEventSource {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

/** An asset event as recorded. */
export interface RecordedAssetEvent {
  id: number;
  uri: string;
  /** DAGs whose queue the event joined (active DAGs scheduled on the asset, paused ones included). */
  queuedFor: string[];
}

/**
 * Record asset events in the caller's transaction (the one that marks the producing task successful)
 * and queue each for every active DAG whose schedule names its asset (Airflow's
 * `asset_dag_run_queue`): the queue row of a DAG and asset keeps the range of events not consumed
 * yet. Unknown URIs are registered as assets. Paused DAGs are queued too, so an update made while a
 * DAG is paused triggers it once unpaused.
 */
export async function recordAssetEvents(
  trx: Transaction<Database>,
  events: readonly AssetEventInput[],
  source: AssetEventSource | null,
): Promise<RecordedAssetEvent[]> {
  if (events.length === 0) return [];
  const uris = events.map((e) => e.uri);
  // A statement of its own, so the next one sees assets a concurrent transaction registered.
  await sql`INSERT INTO tributary.asset (uri) SELECT DISTINCT unnest(${uris}::text[]) ON CONFLICT (uri) DO NOTHING`.execute(trx);
  const rows = await sql<{ id: string | number; uri: string; queued_for: string[] | null }>`
    WITH v AS (
      SELECT * FROM unnest(${uris}::text[], ${events.map((e) => JSON.stringify(e.extra))}::jsonb[]) WITH ORDINALITY AS v(uri, extra, n)
    ), inserted AS (
      INSERT INTO tributary.asset_event (asset_id, source_dag_id, source_run_id, source_task_id, source_map_index, extra)
      SELECT a.id, ${source?.dagId ?? null}, ${source?.runId ?? null}, ${source?.taskId ?? null}, ${source?.mapIndex ?? null}::int, v.extra
        FROM v JOIN tributary.asset a ON a.uri = v.uri
       ORDER BY v.n
      RETURNING id, asset_id
    ), targets AS (
      SELECT d.dag_id, e.asset_id, min(e.id) AS first_id, max(e.id) AS last_id
        FROM inserted e JOIN tributary.asset a ON a.id = e.asset_id
        JOIN tributary.dag d ON d.asset_triggers @> ARRAY[a.uri] AND d.is_active
       GROUP BY d.dag_id, e.asset_id
    ), queued AS (
      -- In key order, so transactions queueing the same assets lock rows in the same order.
      INSERT INTO tributary.asset_dag_queue (dag_id, asset_id, first_event_id, last_event_id)
      SELECT dag_id, asset_id, first_id, last_id FROM targets ORDER BY dag_id, asset_id
      ON CONFLICT (dag_id, asset_id) DO UPDATE
        SET last_event_id = greatest(tributary.asset_dag_queue.last_event_id, EXCLUDED.last_event_id)
    )
    SELECT e.id, a.uri, (SELECT array_agg(t.dag_id ORDER BY t.dag_id) FROM targets t WHERE t.asset_id = e.asset_id) AS queued_for
      FROM inserted e JOIN tributary.asset a ON a.id = e.asset_id
     ORDER BY e.id`.execute(trx);
  return rows.rows.map((r) => ({ id: Number(r.id), uri: r.uri, queuedFor: r.queued_for ?? [] }));
}

/** The asset events an asset-triggered run consumed, by asset URI, oldest first (empty for other runs). */
export async function triggeringAssetEvents(db: Kysely<Database>, runPk: number): Promise<Record<string, AssetEventInfo[]>> {
  const rows = await sql<{
    id: string | number; uri: string; extra: Record<string, unknown>; source_dag_id: string | null; source_run_id: string | null;
    source_task_id: string | null; source_map_index: number | null; created_at: Date;
  }>`
    SELECT e.id, a.uri, e.extra, e.source_dag_id, e.source_run_id, e.source_task_id, e.source_map_index, e.created_at
      FROM tributary.dag_run_asset_event l
      JOIN tributary.asset_event e ON e.id = l.event_id
      JOIN tributary.asset a ON a.id = e.asset_id
     WHERE l.run_pk = ${runPk}
     ORDER BY e.id`.execute(db);
  const byUri: Record<string, AssetEventInfo[]> = {};
  for (const row of rows.rows) {
    (byUri[row.uri] ??= []).push({
      id: Number(row.id),
      uri: row.uri,
      extra: row.extra,
      source: { dagId: row.source_dag_id, runId: row.source_run_id, taskId: row.source_task_id, mapIndex: row.source_map_index },
      createdAt: row.created_at,
    });
  }
  return byUri;
}
