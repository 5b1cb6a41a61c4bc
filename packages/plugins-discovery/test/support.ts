import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Tributary } from '@tributary/engine';
import { createTaskContext, createTestDatabase, openTestEngine, type TestDatabase } from '@tributary/engine/testing';
import { discoveryPlugin } from '../src/plugin.js';
import type { DiscoveryTables } from '../src/store/tables.js';

/** The plugin package's directory. */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root: the project whose `dags/` and county configs the end-to-end test uses. */
export const REPO_DIR = join(PACKAGE_DIR, '..', '..');
/** The county configs shipped in `dags/config/counties`. */
export const COUNTIES_DIR = join(REPO_DIR, 'dags/config/counties');

/** An engine with the discovery plugin on a fresh database, and the plugin's tables. */
export interface DiscoverySetup {
  engine: Tributary;
  database: TestDatabase;
  db: Kysely<DiscoveryTables>;
  close(): Promise<void>;
}

/** Open an engine (project: the package directory unless given) with the discovery plugin on a fresh database. */
export async function setupDiscovery(options: { projectDir?: string; dagsFolders?: string[] } = {}): Promise<DiscoverySetup> {
  const database = await createTestDatabase(inject('postgresServerUrl'), inject('templateDatabase'));
  const engine = await openTestEngine({
    databaseUrl: database.url,
    projectDir: options.projectDir ?? PACKAGE_DIR,
    dagsFolders: options.dagsFolders ?? [join(PACKAGE_DIR, 'test/fixtures/dags')],
    plugins: [discoveryPlugin],
  });
  return {
    engine,
    database,
    db: engine.db as unknown as Kysely<DiscoveryTables>,
    close: async () => {
      await engine.close();
      await database.drop();
    },
  };
}

/**
 * Run a discovery operator the way a worker does (resolved by name from the registry, its
 * arguments validated, its plugin migrated), with a task context of its own.
 */
export async function runOperator<R>(
  engine: Tributary,
  name: 'validateConfig' | 'scrape' | 'validateScrape',
  args: Record<string, unknown>,
  context: { params?: Record<string, unknown>; upstream?: Record<string, unknown>; runId?: string; signal?: AbortSignal } = {},
): Promise<R> {
  const run = await engine.plugins.resolve(`discovery.${name}`, null);
  const task = createTaskContext({
    dagId: 'discovery_test',
    taskId: name,
    runId: context.runId ?? `test_${randomBytes(4).toString('hex')}`,
    params: context.params ?? {},
    upstream: context.upstream ?? {},
    ...(context.signal ? { signal: context.signal } : {}),
  });
  return (await run(args, task)) as R;
}

/** A folder of county configs for one test file, inside the package (configDir is relative to the project). */
export function countyFolder(): { dir: string; relative: string; write(id: string, from: 'king_wa' | 'king_wa_browser', patch?: (config: Record<string, any>) => void): string; remove(): void } {
  const relative = join('test', '.test-tmp', randomBytes(5).toString('hex'));
  const dir = join(PACKAGE_DIR, relative);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    relative,
    /** Write `<id>.yaml`: a copy of a shipped config, changed by `patch`. */
    write(id, from, patch) {
      const config = parse(readFileSync(join(COUNTIES_DIR, `${from}.yaml`), 'utf8')) as Record<string, any>;
      patch?.(config);
      const path = join(dir, `${id}.yaml`);
      writeFileSync(path, stringify(config));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Arrival times (ms) of the site's page requests, in order. */
export function arrivals(requests: readonly { at: number; kind: string }[], kinds: readonly string[] = ['list', 'detail']): number[] {
  return requests.filter((r) => kinds.includes(r.kind)).map((r) => r.at).sort((a, b) => a - b);
}
