import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A DAG file found in a DAG folder. */
export interface DagFileRef {
  /** Absolute path. */
  absolute: string;
  /** Path relative to the project directory, with `/` separators; the file's identity in the database. */
  relative: string;
}

const DAG_FILE = /\.(m?ts|m?js)$/;
const NOT_DAG_FILE = /(\.d\.ts|\.test\.[mc]?[jt]s|\.spec\.[mc]?[jt]s)$/;

/** True when a path (relative to a DAG folder) may hold DAGs. @internal */
export function isCandidateDagFile(path: string): boolean {
  const parts = path.split(/[\\/]/);
  if (parts.some((p) => p === 'node_modules' || p.startsWith('.') || p === '__tests__')) return false;
  const name = parts[parts.length - 1] ?? '';
  return DAG_FILE.test(name) && !NOT_DAG_FILE.test(name);
}

/**
 * List the DAG files under each folder (recursively; skipping `node_modules`, dot-folders, type
 * declarations and tests), sorted by relative path so duplicates resolve the same way every time.
 */
export async function discoverDagFiles(folders: readonly string[], projectDir: string): Promise<DagFileRef[]> {
  const files = new Map<string, DagFileRef>();
  for (const folder of folders) {
    let entries: string[];
    try {
      entries = await readdir(folder, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const entry of entries) {
      if (!isCandidateDagFile(entry)) continue;
      const absolute = join(folder, entry);
      const rel = relative(projectDir, absolute).split(sep).join('/');
      files.set(absolute, { absolute, relative: rel });
    }
  }
  return [...files.values()].sort((a, b) => a.relative.localeCompare(b.relative));
}
