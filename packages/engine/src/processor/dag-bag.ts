import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dag } from '../dag/dag.js';
import { DagImportError, NotFoundError } from '../errors.js';
import { dagsExportedBy } from './module-dags.js';
import { ensureTypeScriptLoader } from './typescript-loader.js';

/** How long a file's modification stamp is trusted before it is checked again. */
const STAT_TTL_MS = 250;

interface Entry {
  stamp: string;
  dags: Promise<Map<string, Dag>>;
}

/**
 * DAG files imported into this process, for running their tasks' functions. A file is imported once
 * per content change (its modification time and size), by every task that needs it at once.
 */
export class DagBag {
  readonly #projectDir: string;
  readonly #entries = new Map<string, Entry>();
  /** Recent stat results: a busy worker checks each file a few times a second, not once per task. */
  readonly #stamps = new Map<string, { stamp: Promise<string>; at: number }>();

  constructor(projectDir: string) {
    this.#projectDir = projectDir;
  }

  /** The DAG `dagId` from `file` (relative to the project directory, or absolute). */
  async getDag(file: string, dagId: string): Promise<Dag> {
    const absolute = isAbsolute(file) ? file : join(this.#projectDir, file);
    const stamp = await this.#stamp(absolute, file);
    let entry = this.#entries.get(absolute);
    if (!entry || entry.stamp !== stamp) {
      entry = { stamp, dags: this.#import(absolute, file, stamp) };
      this.#entries.set(absolute, entry);
      entry.dags.catch(() => this.#entries.delete(absolute));
    }
    const dag = (await entry.dags).get(dagId);
    if (!dag) throw new NotFoundError(`DAG '${dagId}' in ${file}`, { file, dagId });
    return dag;
  }

  #stamp(absolute: string, file: string): Promise<string> {
    const now = performance.now();
    const cached = this.#stamps.get(absolute);
    if (cached && now - cached.at < STAT_TTL_MS) return cached.stamp;
    const stamp = stat(absolute).then(
      (info) => `${info.mtimeMs}-${info.size}`,
      () => {
        this.#stamps.delete(absolute);
        throw new DagImportError(file, 'DAG file no longer exists');
      },
    );
    this.#stamps.set(absolute, { stamp, at: now });
    return stamp;
  }

  async #import(absolute: string, file: string, stamp: string): Promise<Map<string, Dag>> {
    await ensureTypeScriptLoader();
    let module: Record<string, unknown>;
    try {
      // The query makes an edited file a new module; unchanged files keep their cached import.
      module = (await import(`${pathToFileURL(absolute).href}?v=${encodeURIComponent(stamp)}`)) as Record<string, unknown>;
    } catch (error) {
      throw new DagImportError(file, (error as Error).message ?? String(error), { cause: error });
    }
    return new Map(dagsExportedBy(module).map((dag) => [dag.id, dag]));
  }
}
