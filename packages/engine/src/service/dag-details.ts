import { sql, type Kysely } from 'kysely';
import type { SerializedDag } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { EngineContext } from '../scheduler/context.js';
import { selectDags, type DagSummary } from './dags.js';

/** A DAG with its latest version's definition. */
export interface DagDetail extends DagSummary {
  maxActiveRuns: number;
  maxActiveTasks: number;
  lastParsedAt: Date | null;
  /** The latest version's serialized definition: tasks, params schema, options. */
  definition: SerializedDag | null;
}

/** One DAG (active or not) with its latest definition; `NotFoundError` when unknown. */
export async function getDag(db: Kysely<Database>, dagId: string): Promise<DagDetail> {
  const summary = (await selectDags(db, sql`d.dag_id = ${dagId}`, 1, 0)).dags[0];
  if (!summary) throw new NotFoundError(`DAG '${dagId}'`, { dagId });
  const row = await db
    .selectFrom('tributary.dag as d')
    .leftJoin('tributary.dag_version as v', 'v.id', 'd.latest_version_id')
    .select(['d.max_active_runs', 'd.max_active_tasks', 'd.last_parsed_at', 'v.serialized'])
    .where('d.dag_id', '=', dagId)
    .executeTakeFirstOrThrow();
  return { ...summary, maxActiveRuns: row.max_active_runs, maxActiveTasks: row.max_active_tasks, lastParsedAt: row.last_parsed_at, definition: row.serialized ?? null };
}

/**
 * {@link getDag} with the definition taken from the engine's cache of DAG versions, so a page
 * showing a DAG of 500 tasks does not read and parse its serialized form on every request.
 */
export async function getDagCached(ctx: EngineContext, dagId: string): Promise<DagDetail> {
  const summary = (await selectDags(ctx.db, sql`d.dag_id = ${dagId}`, 1, 0)).dags[0];
  if (!summary) throw new NotFoundError(`DAG '${dagId}'`, { dagId });
  const row = await ctx.db
    .selectFrom('tributary.dag')
    .select(['max_active_runs', 'max_active_tasks', 'last_parsed_at', 'latest_version_id'])
    .where('dag_id', '=', dagId)
    .executeTakeFirstOrThrow();
  const definition = row.latest_version_id === null ? null : (await ctx.versions.get(row.latest_version_id)).serialized;
  return { ...summary, maxActiveRuns: row.max_active_runs, maxActiveTasks: row.max_active_tasks, lastParsedAt: row.last_parsed_at, definition };
}

/** A stored version of a DAG. */
export interface DagVersionSummary {
  versionNumber: number;
  hash: string;
  createdAt: Date;
  taskCount: number;
}

/** Every version of a DAG, newest first. */
export async function listDagVersions(db: Kysely<Database>, dagId: string): Promise<DagVersionSummary[]> {
  const rows = await sql<{ version_number: number; hash: string; created_at: Date; task_count: number }>`
    SELECT version_number, hash, created_at, jsonb_array_length(serialized -> 'tasks') AS task_count
      FROM tributary.dag_version WHERE dag_id = ${dagId} ORDER BY version_number DESC`.execute(db);
  if (rows.rows.length === 0) await getDag(db, dagId); // NotFoundError for an unknown DAG
  return rows.rows.map((r) => ({ versionNumber: r.version_number, hash: r.hash, createdAt: r.created_at, taskCount: r.task_count }));
}

/** The source file of a DAG version (the latest unless `versionNumber` is given). */
export async function getDagSource(db: Kysely<Database>, dagId: string, versionNumber?: number): Promise<{ versionNumber: number; file: string | null; source: string | null }> {
  let query = db
    .selectFrom('tributary.dag_version as v')
    .select(['v.version_number', 'v.source_code', sql<string | null>`v.serialized ->> 'file'`.as('file')])
    .where('v.dag_id', '=', dagId);
  query = versionNumber === undefined ? query.orderBy('v.version_number', 'desc').limit(1) : query.where('v.version_number', '=', versionNumber);
  const row = await query.executeTakeFirst();
  if (!row) throw new NotFoundError(versionNumber === undefined ? `DAG '${dagId}'` : `version ${versionNumber} of DAG '${dagId}'`, { dagId });
  return { versionNumber: row.version_number, file: row.file, source: row.source_code };
}
