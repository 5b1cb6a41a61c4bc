import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import type { FileParseResult } from './parse-protocol.js';
import { storeFiles, storeImportError } from './store-files.js';

export { timetableKey } from './store-files.js';

/** What a sync changed, for logs and progress output. */
export interface SyncSummary {
  files: number;
  dags: number;
  newVersions: number;
  importErrors: number;
}

/**
 * Files stored per transaction: a full load of 1,000 files is five transactions of ~10 statements
 * each instead of 1,000 of ~8, while the DAG rows a transaction locks stay few enough that a
 * scheduler updating them waits milliseconds, not the whole load.
 */
const FILES_PER_TRANSACTION = 200;

/**
 * Store parse results: DAGs, new versions, parsed files and import errors, many files per
 * transaction and a few set-based statements per transaction. Files are applied in the order given
 * (sorted by path), so a DAG id defined by an earlier file that still exists turns a later one into
 * an import error, as it would file by file. One file's problem never blocks another's update: when
 * a transaction fails, its files are stored again one by one, and a file whose data Postgres rejects
 * (a NUL character, an over-long id) becomes that file's import error.
 */
export async function syncParseResults(
  db: Kysely<Database>,
  results: readonly FileParseResult[],
  fileExists: (relative: string) => boolean,
): Promise<SyncSummary> {
  const summary: SyncSummary = { files: results.length, dags: 0, newVersions: 0, importErrors: 0 };
  const add = (counts: Omit<SyncSummary, 'files'>): void => {
    summary.dags += counts.dags;
    summary.newVersions += counts.newVersions;
    summary.importErrors += counts.importErrors;
  };
  for (let start = 0; start < results.length; start += FILES_PER_TRANSACTION) {
    const batch = results.slice(start, start + FILES_PER_TRANSACTION);
    try {
      add(await withTransaction(db, (trx) => storeFiles(trx, batch, fileExists)));
      continue;
    } catch (error) {
      if (batch.length === 1 && !isDataError(error)) throw error;
    }
    for (const result of batch) {
      try {
        add(await withTransaction(db, (trx) => storeFiles(trx, [result], fileExists)));
      } catch (error) {
        if (!isDataError(error)) throw error;
        const message = `could not be stored: ${(error as Error).message}`;
        await withTransaction(db, (trx) => storeImportError(trx, result.file.relative, message));
        add({ dags: 0, newVersions: 0, importErrors: 1 });
      }
    }
  }
  return summary;
}

/**
 * Stores parse results while a pass is still parsing: results arrive in any order, and each run of
 * {@link FILES_PER_TRANSACTION} consecutive files (in the pass's order) is stored as soon as all of
 * them are in, so the database work overlaps the parsing instead of following it. The outcome is
 * that of {@link syncParseResults} on all results at once.
 * @internal
 */
export class StreamingSync {
  readonly #db: Kysely<Database>;
  readonly #fileExists: (relative: string) => boolean;
  readonly #results: (FileParseResult | undefined)[];
  readonly #summary: SyncSummary;
  #queued = 0;
  #chain: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | null = null;

  constructor(db: Kysely<Database>, files: number, fileExists: (relative: string) => boolean) {
    this.#db = db;
    this.#fileExists = fileExists;
    this.#results = new Array<FileParseResult | undefined>(files);
    this.#summary = { files, dags: 0, newVersions: 0, importErrors: 0 };
  }

  /** Take the result of the file at `index`. */
  add(result: FileParseResult, index: number): void {
    this.#results[index] = result;
    this.#storeReady(false);
  }

  /**
   * Store what is left and report what the whole sync did. `all` holds every file's result (a pass
   * that was stopped reports files it never parsed only there).
   */
  async finish(all: readonly FileParseResult[]): Promise<SyncSummary> {
    all.forEach((result, index) => (this.#results[index] ??= result));
    this.#storeReady(true);
    await this.#chain;
    if (this.#failure) throw this.#failure.error;
    return this.#summary;
  }

  #storeReady(all: boolean): void {
    let end = this.#queued;
    while (end < this.#results.length && this.#results[end] !== undefined) end++;
    const ready = end - this.#queued;
    const count = all ? ready : ready - (ready % FILES_PER_TRANSACTION);
    if (count === 0) return;
    const batch = this.#results.slice(this.#queued, this.#queued + count) as FileParseResult[];
    this.#queued += count;
    this.#chain = this.#chain.then(async () => {
      if (this.#failure) return;
      try {
        const stored = await syncParseResults(this.#db, batch, this.#fileExists);
        this.#summary.dags += stored.dags;
        this.#summary.newVersions += stored.newVersions;
        this.#summary.importErrors += stored.importErrors;
      } catch (error) {
        // Kept for finish(): later batches are not stored, as a failed sync stops a pass.
        this.#failure = { error };
      }
    });
  }
}

/**
 * True for errors caused by the data itself (SQLSTATE class 22 "data exception", class 54 "program
 * limit exceeded"): the file's content is at fault, not the database, so retrying cannot help.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
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
