import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SerializedDag } from '../dag/types.js';
import type { Database, RunState } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { DagSummary } from './dags.js';

/** Filters and paging of {@link searchDags}. */
export interface DagSearch {
  /** Case-insensitive substring of the DAG id or description. */
  search?: string;
  /** DAGs carrying every one of these tags. */
  tags?: readonly string[];
  paused?: boolean;
  /** Include DAGs whose file no longer defines them. @defaultValue false */
  includeInactive?: boolean;
  /** @defaultValue 100 */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
}

interface DagListRow {
  dag_id: string; file: string | null; description: string | null; tags: string[]; schedule: string | null;
  timezone: string; is_paused: boolean; is_active: boolean; version_number: number | null;
  next_run_after: Date | null; next_logical_date: Date | null;
  last_run_id: string | null; last_state: RunState | null; last_logical_date: Date | null; total: string;
}

async function selectDags(db: Kysely<Database>, where: RawBuilder<unknown>, limit: number, offset: number): Promise<{ dags: DagSummary[]; total: number }> {
  const rows = await sql<DagListRow>`
    SELECT d.dag_id, d.file, d.description, d.tags, d.schedule, d.timezone, d.is_paused, d.is_active,
           v.version_number, d.next_run_after, d.next_logical_date,
           r.run_id AS last_run_id, r.state AS last_state, r.logical_date AS last_logical_date,
           count(*) OVER () AS total
      FROM tributary.dag d
      LEFT JOIN tributary.dag_version v ON v.id = d.latest_version_id
      LEFT JOIN LATERAL (SELECT run_id, state, logical_date FROM tributary.dag_run
                          WHERE dag_id = d.dag_id ORDER BY id DESC LIMIT 1) r ON true
     WHERE ${where}
     ORDER BY d.dag_id
     LIMIT ${limit} OFFSET ${offset}`.execute(db);
  return {
    total: rows.rows[0] ? Number(rows.rows[0].total) : 0,
    dags: rows.rows.map((r) => ({
      dagId: r.dag_id,
      file: r.file,
      description: r.description,
      tags: r.tags,
      schedule: r.schedule,
      timezone: r.timezone,
      isPaused: r.is_paused,
      isActive: r.is_active,
      latestVersion: r.version_number,
      nextRunAfter: r.next_run_after,
      nextLogicalDate: r.next_logical_date,
      lastRun: r.last_run_id ? { runId: r.last_run_id, state: r.last_state!, logicalDate: r.last_logical_date! } : null,
    })),
  };
}

/** One page of the DAGs matching a search, sorted by id, with the total that match (one query). */
export function searchDags(db: Kysely<Database>, query: DagSearch = {}): Promise<{ dags: DagSummary[]; total: number }> {
  const pattern = query.search ? `%${query.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : null;
  const where = sql`${query.includeInactive ? sql`true` : sql`d.is_active`}
       ${pattern ? sql`AND (d.dag_id ILIKE ${pattern} OR coalesce(d.description, '') ILIKE ${pattern})` : sql``}
       ${query.tags?.length ? sql`AND d.tags @> ${[...query.tags]}::text[]` : sql``}
       ${query.paused === undefined ? sql`` : sql`AND d.is_paused = ${query.paused}`}`;
  return selectDags(db, where, query.limit ?? 100, query.offset ?? 0);
}

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
