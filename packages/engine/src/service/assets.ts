import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { closest } from '../dag/validate.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { checkAssetUri } from '../schedule/assets.js';
import { recordAssetEvents } from '../scheduler/asset-events.js';
import { recordAudit, type Actor } from './audit.js';

/** An asset with who updates it and who waits for it. */
export interface AssetSummary {
  uri: string;
  createdAt: Date;
  /** Tasks listing it in their outlets (`dag.task`), in the DAGs' latest versions. */
  producers: string[];
  /** DAGs whose schedule names it. */
  consumers: string[];
  /** DAGs with an update of it queued that no run has consumed yet. */
  queuedFor: string[];
  events: number;
  lastEventAt: Date | null;
}

/** Every known asset (named by a DAG, or given an event), by URI. */
export async function listAssets(db: Kysely<Database>): Promise<AssetSummary[]> {
  const rows = await sql<{
    uri: string; created_at: Date; producers: string[] | null; consumers: string[]; queued_for: string[]; events: number; last_event_at: Date | null;
  }>`
    WITH producers AS (
      SELECT o.uri, array_agg(DISTINCT d.dag_id || '.' || (t->>'taskId') ORDER BY d.dag_id || '.' || (t->>'taskId')) AS tasks
        FROM tributary.dag d
        JOIN tributary.dag_version v ON v.id = d.latest_version_id
        CROSS JOIN LATERAL jsonb_array_elements(v.serialized->'tasks') t
        CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(t->'outlets', '[]'::jsonb)) o(uri)
       WHERE d.is_active
       GROUP BY o.uri
    )
    SELECT a.uri, a.created_at, p.tasks AS producers,
           ARRAY(SELECT d.dag_id FROM tributary.dag d WHERE d.is_active AND d.asset_triggers @> ARRAY[a.uri] ORDER BY d.dag_id) AS consumers,
           ARRAY(SELECT q.dag_id FROM tributary.asset_dag_queue q WHERE q.asset_id = a.id ORDER BY q.dag_id) AS queued_for,
           (SELECT count(*)::int FROM tributary.asset_event e WHERE e.asset_id = a.id) AS events,
           (SELECT max(e.created_at) FROM tributary.asset_event e WHERE e.asset_id = a.id) AS last_event_at
      FROM tributary.asset a LEFT JOIN producers p ON p.uri = a.uri
     ORDER BY a.uri`.execute(db);
  return rows.rows.map((r) => ({
    uri: r.uri,
    createdAt: r.created_at,
    producers: r.producers ?? [],
    consumers: r.consumers,
    queuedFor: r.queued_for,
    events: r.events,
    lastEventAt: r.last_event_at,
  }));
}

/** An asset event as listed. */
export interface AssetEventSummary {
  id: number;
  uri: string;
  extra: Record<string, unknown>;
  /** The producing task instance; nulls for an event created by hand. */
  source: { dagId: string | null; runId: string | null; taskId: string | null; mapIndex: number | null };
  createdAt: Date;
  /** Runs (`dag/run id`) that consumed it. */
  consumedBy: string[];
}

/** Options of {@link listAssetEvents}. */
export interface AssetEventQuery {
  /** Only events of this asset. */
  uri?: string;
  /** @defaultValue 50 */
  limit?: number;
}

/** Asset events, newest first. */
export async function listAssetEvents(db: Kysely<Database>, query: AssetEventQuery = {}): Promise<AssetEventSummary[]> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError('limit', `expected an integer >= 1, got ${limit}`);
  if (query.uri !== undefined) await requireAsset(db, query.uri);
  const rows = await sql<{
    id: string | number; uri: string; extra: Record<string, unknown>; source_dag_id: string | null; source_run_id: string | null;
    source_task_id: string | null; source_map_index: number | null; created_at: Date; consumed_by: string[];
  }>`
    SELECT e.id, a.uri, e.extra, e.source_dag_id, e.source_run_id, e.source_task_id, e.source_map_index, e.created_at,
           ARRAY(SELECT r.dag_id || '/' || r.run_id FROM tributary.dag_run_asset_event l JOIN tributary.dag_run r ON r.id = l.run_pk
                  WHERE l.event_id = e.id ORDER BY r.id) AS consumed_by
      FROM tributary.asset_event e JOIN tributary.asset a ON a.id = e.asset_id
     WHERE ${query.uri === undefined ? sql`true` : sql`a.uri = ${query.uri}`}
     ORDER BY e.id DESC LIMIT ${limit}`.execute(db);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    uri: r.uri,
    extra: r.extra,
    source: { dagId: r.source_dag_id, runId: r.source_run_id, taskId: r.source_task_id, mapIndex: r.source_map_index },
    createdAt: r.created_at,
    consumedBy: r.consumed_by,
  }));
}

async function requireAsset(db: Kysely<Database>, uri: string): Promise<void> {
  const found = await db.selectFrom('tributary.asset').select('id').where('uri', '=', uri).executeTakeFirst();
  if (found) return;
  const known = await db.selectFrom('tributary.asset').select('uri').orderBy('uri').limit(1000).execute();
  const suggestion = closest(uri, known.map((k) => k.uri));
  throw new NotFoundError(`asset '${uri}'`, { field: 'uri' }, suggestion ? `did you mean '${suggestion}'?` : `known assets: ${known.map((k) => k.uri).slice(0, 20).join(', ') || 'none'} (DAGs register theirs when parsed)`);
}

/** The event {@link createAssetEvent} recorded. */
export interface CreatedAssetEvent {
  id: number;
  uri: string;
  /** DAGs whose queue it joined (their asset-triggered runs follow once their condition holds). */
  queuedFor: string[];
}

/**
 * Record an asset event by hand (Airflow's "create asset event"): as if a task had updated the asset,
 * without a source task. DAGs scheduled on it are queued as for any event. The asset must be known
 * (named by a parsed DAG); the event is audited.
 */
export async function createAssetEvent(
  db: Kysely<Database>,
  request: { uri: string; extra?: Record<string, unknown> },
  actor: Actor,
): Promise<CreatedAssetEvent> {
  const problem = checkAssetUri(request.uri);
  if (problem) throw new InvalidInputError('uri', problem);
  const extra = request.extra ?? {};
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new InvalidInputError('extra', 'expected a JSON object');
  await requireAsset(db, request.uri);
  return withTransaction(db, async (trx) => {
    const [event] = await recordAssetEvents(trx, [{ uri: request.uri, extra }], null);
    await recordAudit(trx, actor, { action: 'asset_event_create', object: `asset:${request.uri}`, details: { eventId: event!.id, extra } });
    return { id: event!.id, uri: request.uri, queuedFor: event!.queuedFor };
  });
}
