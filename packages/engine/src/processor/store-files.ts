import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { SerializedDag } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { describeSchedule, parseSchedule } from '../schedule/schedule.js';
import type { FileParseResult, ParsedDag } from './parse-protocol.js';

/** What storing a group of files changed. */
export interface StoredCounts {
  dags: number;
  newVersions: number;
  importErrors: number;
}

/** Identity of a DAG's timetable: when it changes, the next scheduled run is recomputed. */
export function timetableKey(s: SerializedDag): string | null {
  if (s.schedule === null) return null;
  return createHash('sha256')
    .update(JSON.stringify([s.schedule, s.timezone, s.startDate, s.endDate, s.catchup]))
    .digest('hex')
    .slice(0, 32);
}

interface FileError {
  file: string;
  message: string;
  stack: string | null;
}

/**
 * Store the parse results of a group of files in one transaction, with one statement per kind of
 * change for the whole group. The outcome is what storing the files one after another, in the order
 * given, would have produced: an id an earlier file defines (or still defined before this group)
 * makes a later file an import error, and an id an earlier file dropped is free for a later one.
 * @internal
 */
export async function storeFiles(
  trx: Transaction<Database>,
  results: readonly FileParseResult[],
  fileExists: (relative: string) => boolean,
): Promise<StoredCounts> {
  const now = new Date();
  const candidates = results.filter((r) => !r.error);
  const ids = [...new Set(candidates.flatMap((r) => r.dags.map((d) => d.serialized.dagId)))].sort();
  // Which file owns each id now (rows locked, in id order, so concurrent processors queue instead
  // of deadlocking), and which ids each file had last time.
  const owners = new Map<string, string | null>();
  if (ids.length > 0) {
    const rows = await trx
      .selectFrom('tributary.dag')
      .select(['dag_id', 'file'])
      .where('dag_id', 'in', ids)
      .where('is_active', '=', true)
      .orderBy('dag_id')
      .forUpdate()
      .execute();
    for (const row of rows) owners.set(row.dag_id, row.file);
  }
  const previousIds = new Map<string, readonly string[]>();
  if (candidates.length > 0) {
    const rows = await trx
      .selectFrom('tributary.dag_file')
      .select(['path', 'dag_ids'])
      .where('path', 'in', candidates.map((r) => r.file.relative))
      .execute();
    for (const row of rows) previousIds.set(row.path, row.dag_ids);
  }

  const failed: FileError[] = [];
  const stored: FileParseResult[] = [];
  const gone: { dagId: string; file: string }[] = [];
  for (const result of results) {
    const file = result.file.relative;
    const error = result.error ?? conflictOf(result, owners, fileExists);
    if (error) {
      // The file's DAGs stay as last parsed (as in Airflow): runs in flight continue, and the
      // import error is shown beside them until the file is fixed.
      failed.push({ file, message: error.message, stack: error.stack });
      continue;
    }
    stored.push(result);
    const current = new Set(result.dags.map((d) => d.serialized.dagId));
    for (const dagId of previousIds.get(file) ?? []) {
      if (current.has(dagId)) continue;
      gone.push({ dagId, file });
      if (owners.get(dagId) === file) owners.delete(dagId);
    }
    for (const dagId of current) owners.set(dagId, file);
  }

  if (failed.length > 0) await upsertImportErrors(trx, failed, now);
  if (gone.length > 0) {
    await sql`
      UPDATE tributary.dag AS d SET is_active = false, updated_at = ${now}
      FROM unnest(${gone.map((g) => g.dagId)}::text[], ${gone.map((g) => g.file)}::text[]) AS g(dag_id, file)
      WHERE d.dag_id = g.dag_id AND d.file = g.file`.execute(trx);
  }
  const dags = stored.flatMap((r) => r.dags.map((parsed) => ({ parsed, source: r.source })));
  const newVersions = dags.length > 0 ? await upsertDags(trx, dags, now) : 0;
  if (stored.length > 0) {
    const paths = stored.map((r) => r.file.relative);
    await trx.deleteFrom('tributary.import_error').where('file', 'in', paths).execute();
    await trx
      .insertInto('tributary.dag_file')
      .values(
        stored.map((r) => ({
          path: r.file.relative,
          content_hash: r.contentHash ?? '',
          parsed_at: now,
          parse_duration_ms: Math.round(r.durationMs),
          dag_ids: r.dags.map((d) => d.serialized.dagId),
        })),
      )
      .onConflict((oc) =>
        oc.column('path').doUpdateSet((eb) => ({
          content_hash: eb.ref('excluded.content_hash'),
          parsed_at: eb.ref('excluded.parsed_at'),
          parse_duration_ms: eb.ref('excluded.parse_duration_ms'),
          dag_ids: eb.ref('excluded.dag_ids'),
        })),
      )
      .execute();
  }
  return { dags: dags.length, newVersions, importErrors: failed.length };
}

/** Record one file's import error. @internal */
export async function storeImportError(trx: Transaction<Database>, file: string, message: string): Promise<void> {
  await upsertImportErrors(trx, [{ file, message, stack: null }], new Date());
}

function conflictOf(
  result: FileParseResult,
  owners: ReadonlyMap<string, string | null>,
  fileExists: (relative: string) => boolean,
): { message: string; stack: null } | null {
  for (const dag of result.dags) {
    const id = dag.serialized.dagId;
    const owner = owners.get(id);
    if (owner && owner !== result.file.relative && fileExists(owner)) {
      return { message: `DAG id '${id}' is already defined in ${owner}; DAG ids must be unique`, stack: null };
    }
  }
  return null;
}

async function upsertImportErrors(trx: Transaction<Database>, errors: readonly FileError[], now: Date): Promise<void> {
  await trx
    .insertInto('tributary.import_error')
    .values(errors.map((e) => ({ file: e.file, message: e.message, stack: e.stack, occurred_at: now })))
    .onConflict((oc) =>
      oc.column('file').doUpdateSet((eb) => ({
        message: eb.ref('excluded.message'),
        stack: eb.ref('excluded.stack'),
        occurred_at: eb.ref('excluded.occurred_at'),
      })),
    )
    .execute();
}

/**
 * Insert or update DAGs, record the versions not seen before and point each DAG at its version.
 * Returns how many new versions were recorded.
 */
async function upsertDags(
  trx: Transaction<Database>,
  dags: readonly { parsed: ParsedDag; source: string | null }[],
  now: Date,
): Promise<number> {
  await trx
    .insertInto('tributary.dag')
    .values(
      dags.map(({ parsed: { serialized: s } }) => ({
        dag_id: s.dagId,
        file: s.file,
        is_active: true,
        description: s.description,
        tags: s.tags,
        schedule: describeSchedule(s.schedule),
        timezone: s.timezone,
        max_active_runs: s.maxActiveRuns,
        max_active_tasks: s.maxActiveTasks,
        asset_triggers: assetTriggers(s),
        last_parsed_at: now,
        updated_at: now,
        is_paused: s.pausedOnCreation,
        timetable_key: timetableKey(s),
        needs_next_run: true,
      })),
    )
    .onConflict((oc) =>
      oc.column('dag_id').doUpdateSet((eb) => ({
        file: eb.ref('excluded.file'),
        is_active: true,
        description: eb.ref('excluded.description'),
        tags: eb.ref('excluded.tags'),
        schedule: eb.ref('excluded.schedule'),
        timezone: eb.ref('excluded.timezone'),
        max_active_runs: eb.ref('excluded.max_active_runs'),
        max_active_tasks: eb.ref('excluded.max_active_tasks'),
        asset_triggers: eb.ref('excluded.asset_triggers'),
        last_parsed_at: eb.ref('excluded.last_parsed_at'),
        updated_at: eb.ref('excluded.updated_at'),
        timetable_key: eb.ref('excluded.timetable_key'),
        // Recompute the next run only when the timetable changed.
        needs_next_run: sql<boolean>`tributary.dag.needs_next_run OR tributary.dag.timetable_key IS DISTINCT FROM excluded.timetable_key`,
      })),
    )
    .execute();

  const ids = dags.map((d) => d.parsed.serialized.dagId);
  const hashes = dags.map((d) => d.parsed.hash);
  const known = await sql<{ id: number; dag_id: string }>`
    SELECT v.id, v.dag_id FROM tributary.dag_version v
    JOIN unnest(${ids}::text[], ${hashes}::text[]) AS k(dag_id, hash) ON v.dag_id = k.dag_id AND v.hash = k.hash`.execute(trx);
  const versionOf = new Map(known.rows.map((r) => [r.dag_id, r.id]));
  const missing = dags.filter((d) => !versionOf.has(d.parsed.serialized.dagId));
  if (missing.length > 0) {
    const inserted = await trx
      .insertInto('tributary.dag_version')
      .values(
        missing.map(({ parsed, source }) => ({
          dag_id: parsed.serialized.dagId,
          version_number: sql<number>`(SELECT coalesce(max(version_number), 0) + 1 FROM tributary.dag_version WHERE dag_id = ${parsed.serialized.dagId})`,
          hash: parsed.hash,
          serialized: JSON.stringify(parsed.serialized),
          source_code: source,
        })),
      )
      .returning(['id', 'dag_id'])
      .execute();
    for (const row of inserted) versionOf.set(row.dag_id, row.id);
  }
  await sql`
    UPDATE tributary.dag AS d SET latest_version_id = v.id
    FROM unnest(${ids}::text[], ${ids.map((id) => versionOf.get(id)!)}::bigint[]) AS v(dag_id, id)
    WHERE d.dag_id = v.dag_id`.execute(trx);
  await syncAssets(trx, dags.map((d) => d.parsed.serialized));
  return missing.length;
}

/** The asset URIs a DAG's schedule waits for (none unless it is scheduled on assets). */
function assetTriggers(s: SerializedDag): string[] {
  if (s.schedule === null || typeof s.schedule !== 'object' || !('assets' in s.schedule)) return [];
  const parsed = parseSchedule(s.schedule, s.timezone);
  return parsed.kind === 'assets' ? [...parsed.uris] : [];
}

/**
 * Register the assets the DAGs name (their schedules' and their tasks' outlets), so they are listed
 * before any event, and drop queued asset updates for assets a DAG's schedule no longer names.
 */
async function syncAssets(trx: Transaction<Database>, dags: readonly SerializedDag[]): Promise<void> {
  const uris = [...new Set(dags.flatMap((s) => [...assetTriggers(s), ...s.tasks.flatMap((t) => t.outlets ?? [])]))].sort();
  if (uris.length > 0) await sql`INSERT INTO tributary.asset (uri) SELECT unnest(${uris}::text[]) ON CONFLICT (uri) DO NOTHING`.execute(trx);
  await sql`
    DELETE FROM tributary.asset_dag_queue q USING tributary.asset a, tributary.dag d
     WHERE q.dag_id = ANY(${dags.map((s) => s.dagId)}::text[]) AND a.id = q.asset_id AND d.dag_id = q.dag_id
       AND NOT (a.uri = ANY(d.asset_triggers))`.execute(trx);
}
