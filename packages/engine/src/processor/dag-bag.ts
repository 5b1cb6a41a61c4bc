import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dag } from '../dag/dag.js';
import { DagImportError, NotFoundError } from '../errors.js';
import { dagsExportedBy } from './module-dags.js';
import { ensureTypeScriptLoader } from './typescript-loader.js';

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

  constructor(projectDir: string) {
    this.#projectDir = projectDir;
  }

  /** The DAG `dagId` from `file` (relative to the project directory, or absolute). */
  async getDag(file: string, dagId: string): Promise<Dag> {
    const absolute = isAbsolute(file) ? file : join(this.#projectDir, file);
    let info;
    try {
      info = await stat(absolute);
    } catch {
      throw new DagImportError(file, 'DAG file no longer exists');
    }
    const stamp = `${info.mtimeMs}-${info.size}`;
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
