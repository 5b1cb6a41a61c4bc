import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Test helpers that do not need vitest, so scripts outside it (the chaos soak runner) can use them.

/** The engine package's directory (DAG file paths are stored relative to it in these tests). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_DAGS = join(PACKAGE_DIR, 'test/fixtures/dags');

/**
 * A DAG folder inside the package (so DAG files resolve `@tributary/engine`), removed by `remove()`.
 */
export function tempDagFolder(files: Record<string, string> = {}): { dir: string; write(name: string, source: string): string; remove(): void } {
  const dir = join(PACKAGE_DIR, '.test-tmp', randomBytes(6).toString('hex'));
  mkdirSync(dir, { recursive: true });
  const write = (name: string, source: string): string => {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, source);
    return path;
  };
  for (const [name, source] of Object.entries(files)) write(name, source);
  return { dir, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Poll `check` until it returns a value other than undefined/false, or fail after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
