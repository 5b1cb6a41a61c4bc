import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { discoverDagFiles, isCandidateDagFile, type DagFileRef } from './discover.js';
import { ParsePool, type ParseOptions } from './parse-pool.js';
import type { FileParseResult } from './parse-protocol.js';
import { removeMissingFiles, StreamingSync, type SyncSummary } from './sync.js';

/** Options of {@link DagProcessor}. */
export interface DagProcessorConfig {
  db: Kysely<Database>;
  /** Absolute DAG folders. */
  folders: readonly string[];
  /** Absolute project directory; stored file paths are relative to it. */
  projectDir: string;
  parse: ParseOptions;
  log: Logger;
  /** Called after every parse with what changed. */
  onParsed?: (summary: ParseRunSummary) => void;
}

/** What one parse pass did. */
export interface ParseRunSummary extends SyncSummary {
  durationMs: number;
  results: FileParseResult[];
  removedFiles: string[];
}

const WATCH_DEBOUNCE_MS = 50;

/**
 * Loads DAG files into the database: a full pass over the DAG folders, then (when watching)
 * re-parses files as they change, within milliseconds of the edit rather than minutes of polling.
 */
export class DagProcessor {
  readonly #config: DagProcessorConfig;
  readonly #watchers: FSWatcher[] = [];
  readonly #pool: ParsePool;
  #changed = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(config: DagProcessorConfig) {
    this.#config = config;
    this.#pool = new ParsePool(config.parse);
  }

  /** Parse every DAG file, store the results, and retire files that disappeared. */
  parseAll(): Promise<ParseRunSummary> {
    return this.#serialize(async () => {
      const files = await discoverDagFiles(this.#config.folders, this.#config.projectDir);
      const summary = await this.#parseAndSync(files);
      summary.removedFiles = await removeMissingFiles(this.#config.db, new Set(files.map((f) => f.relative)));
      return summary;
    });
  }

  /** Parse the given files (absolute paths) and store the results. */
  parseFiles(absolutePaths: readonly string[]): Promise<ParseRunSummary> {
    return this.#serialize(async () => {
      const files: DagFileRef[] = absolutePaths.filter(existsSync).map((absolute) => ({
        absolute,
        relative: relative(this.#config.projectDir, absolute).split(sep).join('/'),
      }));
      const summary = await this.#parseAndSync(files);
      const missing = absolutePaths.filter((p) => !existsSync(p));
      if (missing.length > 0) {
        const all = await discoverDagFiles(this.#config.folders, this.#config.projectDir);
        summary.removedFiles = await removeMissingFiles(this.#config.db, new Set(all.map((f) => f.relative)));
      }
      return summary;
    });
  }

  /**
   * Watch the DAG folders. A changed DAG file is re-parsed alone; a change to anything else in the
   * folders (a helper module, a config file) re-parses everything, since DAG files may depend on it.
   * While watching, parse threads are started ahead of the next change (engine loaded, no DAG file
   * imported), so an edit is stored within milliseconds; the promise resolves once they are ready.
   */
  watch(): Promise<void> {
    for (const folder of this.#config.folders) {
      if (!existsSync(folder)) continue;
      const watcher = watch(folder, { recursive: true }, (_event, name) => {
        if (name === null) return this.#schedule('*');
        const path = name.toString();
        if (path.split(/[\\/]/).some((p) => p === 'node_modules' || p.startsWith('.'))) return;
        this.#schedule(isCandidateDagFile(path) ? join(folder, path) : '*');
      });
      watcher.on('error', (error) => this.#config.log.warn({ err: error, folder }, 'DAG folder watch failed'));
      this.#watchers.push(watcher);
    }
    return this.#warmUp();
  }

  /** Stop watching and wait for a parse in progress. */
  async stop(): Promise<void> {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    clearTimeout(this.#timer);
    await this.#running.catch(() => {});
    await this.#pool.close();
  }

  /** Start the threads of the next pass now, when watching (a pass discards the threads it used). */
  #warmUp(): Promise<void> {
    if (this.#watchers.length === 0) return Promise.resolve();
    return this.#pool.warmUp().catch((error: unknown) => this.#config.log.warn({ err: error }, 'starting DAG parse threads failed'));
  }

  #schedule(path: string): void {
    this.#changed.add(path);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const changed = this.#changed;
      this.#changed = new Set();
      const run = changed.has('*') ? this.parseAll() : this.parseFiles([...changed]);
      run.catch((error: unknown) => this.#config.log.error({ err: error }, 're-parsing DAG files failed'));
    }, WATCH_DEBOUNCE_MS);
  }

  async #parseAndSync(files: readonly DagFileRef[]): Promise<ParseRunSummary> {
    const started = performance.now();
    const store = new StreamingSync(this.#config.db, files.length, (rel) => existsSync(join(this.#config.projectDir, rel)));
    const results = files.length > 0 ? await this.#pool.parse(files, (result, index) => store.add(result, index)) : [];
    const sync = await store.finish(results);
    const summary: ParseRunSummary = { ...sync, durationMs: performance.now() - started, results, removedFiles: [] };
    for (const result of results) {
      if (result.error) this.#config.log.warn({ file: result.file.relative, error: result.error.message }, 'DAG file import error');
    }
    this.#config.log.info(
      { files: sync.files, dags: sync.dags, newVersions: sync.newVersions, importErrors: sync.importErrors, ms: Math.round(summary.durationMs) },
      'parsed DAG files',
    );
    this.#config.onParsed?.(summary);
    void this.#warmUp();
    return summary;
  }

  /** Run parse passes one at a time. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#running.catch(() => {}).then(work);
    this.#running = next;
    return next;
  }
}
