import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database, RunState } from '../db/schema.js';
import { closest } from '../dag/validate.js';
import { NotFoundError } from '../errors.js';
import { pageBounds, type ListPage } from './paging.js';

/** A DAG as listed by `dags list` and the DAG list page. */
export interface DagSummary {
  dagId: string;
  file: string | null;
  description: string | null;
  tags: string[];
  schedule: string | null;
  timezone: string;
  isPaused: boolean;
  isActive: boolean;
  latestVersion: number | null;
  nextRunAfter: Date | null;
  nextLogicalDate: Date | null;
  lastRun: { runId: string; state: RunState; logicalDate: Date } | null;
}

/** A DAG file that failed to load. */
export interface ImportErrorSummary {
  file: string;
  message: string;
  occurredAt: Date;
}

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

/** @internal */
export async function selectDags(db: Kysely<Database>, where: RawBuilder<unknown>, limit: number | null, offset: number): Promise<{ dags: DagSummary[]; total: number }> {
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

/** DAGs (active ones unless `includeInactive`), sorted by id, with their latest run. */
export async function listDags(db: Kysely<Database>, options: { includeInactive?: boolean } = {}): Promise<DagSummary[]> {
  return (await selectDags(db, options.includeInactive ? sql`true` : sql`d.is_active`, null, 0)).dags;
}

/** Current import errors by file: every one, or one page. */
export async function listImportErrors(db: Kysely<Database>, page: ListPage = {}): Promise<ImportErrorSummary[]> {
  const { limit, offset } = pageBounds(page);
  const rows = await db
    .selectFrom('tributary.import_error')
    .select(['file', 'message', 'occurred_at'])
    .orderBy('file')
    .$if(limit !== null, (q) => q.limit(limit!))
    .offset(offset)
    .execute();
  return rows.map((r) => ({ file: r.file, message: r.message, occurredAt: r.occurred_at }));
}

/** How many DAG files failed to load. */
export async function countImportErrors(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('tributary.import_error').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Pause or unpause a DAG. A paused DAG gets no scheduled runs and starts no new tasks; unpausing
 * recomputes its next run (so without catchup it resumes at the latest interval).
 */
export async function setDagPaused(db: Kysely<Database> | Transaction<Database>, dagId: string, paused: boolean): Promise<void> {
  const updated = await db
    .updateTable('tributary.dag')
    .set({ is_paused: paused, needs_next_run: true, updated_at: new Date() })
    .where('dag_id', '=', dagId)
    .returning('dag_id')
    .executeTakeFirst();
  if (!updated) throw await dagNotFound(db, dagId);
}

/** The error for a DAG id the database does not know, suggesting a close known one. @internal */
export async function dagNotFound(db: Kysely<Database> | Transaction<Database>, dagId: string): Promise<NotFoundError> {
  const known = await db.selectFrom('tributary.dag').select('dag_id').execute();
  const suggestion = closest(dagId, known.map((d) => d.dag_id));
  return new NotFoundError(`DAG '${dagId}'`, { dagId }, suggestion ? `did you mean '${suggestion}'?` : undefined);
}
