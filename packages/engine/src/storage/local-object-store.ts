import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';

const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function checkBucket(bucket: string): void {
  if (!BUCKET.test(bucket)) throw new InvalidInputError('bucket', `expected 1-63 letters, digits, '.', '_' or '-', got '${bucket}'`);
}

function checkKey(key: string, field: 'key' | 'prefix'): string[] {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '..' || p === '.') || key.includes('\0') || key.includes('\\')) {
    throw new InvalidInputError(field, `a ${field} is a relative '/'-separated path without '.', '..' or '\\' segments, got '${key}'`);
  }
  return parts;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * An {@link ObjectStore} in a local directory: bucket `b`, key `x/y.csv` is the file
 * `<root>/b/x/y.csv`. Writes are atomic (a temporary file renamed into place), so a reader never
 * sees half an object. The embedded default of the engine (under `<dataDir>/objects`).
 */
export class LocalDirectoryObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  #path(bucket: string, key: string, field: 'key' | 'prefix' = 'key'): string {
    checkBucket(bucket);
    return join(this.root, bucket, ...checkKey(key, field));
  }

  async stat(bucket: string, key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(this.#path(bucket, key));
      return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async list(bucket: string, prefix: string, options: { limit?: number } = {}): Promise<ObjectInfo[]> {
    const limit = options.limit ?? 1000;
    checkBucket(bucket);
    checkKey(prefix, 'prefix');
    const bucketDir = join(this.root, bucket);
    // Walk only the deepest directory the prefix names.
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? bucketDir : join(bucketDir, ...prefix.slice(0, slash).split('/'));
    let entries;
    try {
      entries = await readdir(start, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const keys = entries
      .filter((e) => e.isFile() && !e.name.startsWith('.tmp-'))
      .map((e) => relative(bucketDir, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort()
      .slice(0, limit);
    const found = await Promise.all(keys.map((key) => this.stat(bucket, key)));
    return found.filter((o): o is ObjectInfo => o !== null);
  }

  async get(bucket: string, key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.#path(bucket, key));
    } catch (error) {
      if (isMissing(error) || (error as { code?: string }).code === 'EISDIR') return null;
      throw error;
    }
  }

  async put(bucket: string, key: string, body: string | Uint8Array): Promise<ObjectInfo> {
    const path = this.#path(bucket, key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = join(dirname(path), `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(temporary, body);
    await rename(temporary, path);
    return (await this.stat(bucket, key))!;
  }
}
