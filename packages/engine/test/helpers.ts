import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { Tributary } from '../src/engine.js';
import { createTestDatabase, openTestEngine, type TestDatabase, type TestEngineOptions } from '../src/testing/index.js';

/** The engine package's directory (DAG file paths are stored relative to it in these tests). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE_DAGS = join(PACKAGE_DIR, 'test/fixtures/dags');

/** A fresh database cloned from the template, and an engine on it. */
export interface TestSetup {
  engine: Tributary;
  database: TestDatabase;
  /** Close the engine and drop the database. */
  close(): Promise<void>;
}

/** Open an engine on a fresh database of the server this test project runs against. */
export async function setupEngine(options: Partial<TestEngineOptions> = {}): Promise<TestSetup> {
  const database = await createTestDatabase(inject('postgresServerUrl'), inject('templateDatabase'));
  const engine = await openTestEngine({ projectDir: PACKAGE_DIR, dagsFolders: [FIXTURE_DAGS], ...options, databaseUrl: database.url });
  return {
    engine,
    database,
    close: async () => {
      await engine.close();
      await database.drop();
    },
  };
}

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
