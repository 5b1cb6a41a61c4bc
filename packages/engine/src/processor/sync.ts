import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { SerializedDag } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { describeSchedule, parseSchedule } from '../schedule/schedule.js';
import type { FileParseResult, ParsedDag } from './parse-protocol.js';

/** What a sync changed, for logs and progress output. */
export interface SyncSummary {
  files: number;
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

/**
 * Store parse results: DAGs, new versions, parsed files and import errors. Each file is its own
 * transaction, so one file's problem never blocks another's update. A DAG id already defined by a
 * different file that still exists turns this file into an import error.
 */
export async function syncParseResults(
  db: Kysely<Database>,
  results: readonly FileParseResult[],
  fileExists: (relative: string) => boolean,
): Promise<SyncSummary> {
  const summary: SyncSummary = { files: results.length, dags: 0, newVersions: 0, importErrors: 0 };
  for (const result of results) {
    await withTransaction(db, async (trx) => {
      let error = result.error;
      if (!error) {
        const conflict = await findConflict(trx, result, fileExists);
        if (conflict) error = { message: conflict, stack: null };
      }
      const now = new Date();
      if (error) {
        summary.importErrors++;
        await trx
          .insertInto('tributary.import_error')
          .values({ file: result.file.relative, message: error.message, stack: error.stack, occurred_at: now })
          .onConflict((oc) => oc.column('file').doUpdateSet({ message: error.message, stack: error.stack, occurred_at: now }))
          .execute();
        // The file's DAGs stay as last parsed (as in Airflow): runs in flight continue, and the
        // import error is shown beside them until the file is fixed.
        return;
      }
      for (const parsed of result.dags) {
        if (await upsertDag(trx, parsed, result.source, now)) summary.newVersions++;
        summary.dags++;
      }
      const dagIds = result.dags.map((d) => d.serialized.dagId);
      const previous = await trx
        .selectFrom('tributary.dag_file')
        .select('dag_ids')
        .where('path', '=', result.file.relative)
        .executeTakeFirst();
      const gone = (previous?.dag_ids ?? []).filter((id) => !dagIds.includes(id));
      if (gone.length > 0) {
        await trx
          .updateTable('tributary.dag')
          .set({ is_active: false, updated_at: now })
          .where('dag_id', 'in', gone)
          .where('file', '=', result.file.relative)
          .execute();
      }
      await trx.deleteFrom('tributary.import_error').where('file', '=', result.file.relative).execute();
      await trx
        .insertInto('tributary.dag_file')
        .values({
          path: result.file.relative,
          content_hash: result.contentHash ?? '',
          parsed_at: now,
          parse_duration_ms: Math.round(result.durationMs),
          dag_ids: dagIds,
        })
        .onConflict((oc) =>
          oc.column('path').doUpdateSet({
            content_hash: result.contentHash ?? '',
            parsed_at: now,
            parse_duration_ms: Math.round(result.durationMs),
            dag_ids: dagIds,
          }),
        )
        .execute();
    });
  }
  return summary;
}

async function findConflict(
  trx: Transaction<Database>,
  result: FileParseResult,
  fileExists: (relative: string) => boolean,
): Promise<string | null> {
  const ids = result.dags.map((d) => d.serialized.dagId);
  if (ids.length === 0) return null;
  const owners = await trx
    .selectFrom('tributary.dag')
    .select(['dag_id', 'file'])
    .where('dag_id', 'in', ids)
    .where('is_active', '=', true)
    .where('file', '!=', result.file.relative)
    .forUpdate()
    .execute();
  for (const owner of owners) {
    if (owner.file && fileExists(owner.file)) {
      return `DAG id '${owner.dag_id}' is already defined in ${owner.file}; DAG ids must be unique`;
    }
  }
  return null;
}

/** The asset URIs a DAG's schedule waits for (none unless it is scheduled on assets). */
function assetTriggers(s: SerializedDag): string[] {
  if (s.schedule === null || typeof s.schedule !== 'object' || !('assets' in s.schedule)) return [];
  const parsed = parseSchedule(s.schedule, s.timezone);
  return parsed.kind === 'assets' ? [...parsed.uris] : [];
}

/**
 * Register the assets a DAG names (its schedule's and its tasks' outlets), so they are listed before
 * any event, and drop its queued asset updates for assets its schedule no longer names.
 */
async function syncAssets(trx: Transaction<Database>, s: SerializedDag, triggers: readonly string[]): Promise<void> {
  const uris = [...new Set([...triggers, ...s.tasks.flatMap((t) => t.outlets ?? [])])];
  if (uris.length > 0) await sql`INSERT INTO tributary.asset (uri) SELECT unnest(${uris}::text[]) ON CONFLICT (uri) DO NOTHING`.execute(trx);
  await sql`
    DELETE FROM tributary.asset_dag_queue q USING tributary.asset a
     WHERE q.dag_id = ${s.dagId} AND a.id = q.asset_id AND NOT (a.uri = ANY(${triggers}::text[]))`.execute(trx);
}

/** Insert or update one DAG; returns true when a new version was recorded. */
async function upsertDag(trx: Transaction<Database>, parsed: ParsedDag, source: string | null, now: Date): Promise<boolean> {
  const s = parsed.serialized;
  const key = timetableKey(s);
  const triggers = assetTriggers(s);
  const fields = {
    file: s.file,
    is_active: true,
    description: s.description,
    tags: s.tags,
    schedule: describeSchedule(s.schedule),
    timezone: s.timezone,
    max_active_runs: s.maxActiveRuns,
    max_active_tasks: s.maxActiveTasks,
    asset_triggers: triggers,
    last_parsed_at: now,
    updated_at: now,
  };
  await trx
    .insertInto('tributary.dag')
    .values({ dag_id: s.dagId, ...fields, is_paused: s.pausedOnCreation, timetable_key: key, needs_next_run: true })
    .onConflict((oc) =>
      oc.column('dag_id').doUpdateSet({
        ...fields,
        timetable_key: key,
        // Recompute the next run only when the timetable changed.
        needs_next_run: sql<boolean>`tributary.dag.needs_next_run OR tributary.dag.timetable_key IS DISTINCT FROM ${key}`,
      }),
    )
    .execute();
  const existing = await trx
    .selectFrom('tributary.dag_version')
    .select('id')
    .where('dag_id', '=', s.dagId)
    .where('hash', '=', parsed.hash)
    .executeTakeFirst();
  let versionId = existing?.id;
  if (versionId === undefined) {
    const inserted = await trx
      .insertInto('tributary.dag_version')
      .values({
        dag_id: s.dagId,
        version_number: sql<number>`(SELECT coalesce(max(version_number), 0) + 1 FROM tributary.dag_version WHERE dag_id = ${s.dagId})`,
        hash: parsed.hash,
        serialized: JSON.stringify(s),
        source_code: source,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    versionId = inserted.id;
  }
  await trx.updateTable('tributary.dag').set({ latest_version_id: versionId }).where('dag_id', '=', s.dagId).execute();
  await syncAssets(trx, s, triggers);
  return existing === undefined;
}

/**
 * Forget files that are no longer in the DAG folders: their DAGs become inactive (kept with their
 * history, no longer scheduled) and their import errors are dropped.
 */
export async function removeMissingFiles(db: Kysely<Database>, present: ReadonlySet<string>): Promise<string[]> {
  const known = await db.selectFrom('tributary.dag_file').select('path').execute();
  const errors = await db.selectFrom('tributary.import_error').select('file').execute();
  const missing = [...new Set([...known.map((k) => k.path), ...errors.map((e) => e.file)])].filter((p) => !present.has(p));
  if (missing.length === 0) return [];
  await withTransaction(db, async (trx) => {
    await trx
      .updateTable('tributary.dag')
      .set({ is_active: false, updated_at: new Date() })
      .where('file', 'in', missing)
      .execute();
    await trx.deleteFrom('tributary.dag_file').where('path', 'in', missing).execute();
    await trx.deleteFrom('tributary.import_error').where('file', 'in', missing).execute();
  });
  return missing;
}
