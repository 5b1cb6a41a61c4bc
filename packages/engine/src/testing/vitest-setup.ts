import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { dropDatabase, prepareTemplateDatabase } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the PostgreSQL server integration tests use (any database name). */
    postgresServerUrl: string;
    /** Template database to clone per test file. */
    templateDatabase: string;
    /** `embedded` or `external` (DATABASE_URL). */
    postgresKind: 'embedded' | 'external';
  }
}

/**
 * Vitest global setup for integration tests: a real PostgreSQL server (an embedded one, or the one at
 * `DATABASE_URL` when the project is named `*-external`) with a migrated template database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = project.name.endsWith('external');
  const template = `tributary_template_${process.pid}_${external ? 'x' : 'e'}`;
  let serverUrl: string;
  let stop = async (): Promise<void> => {};
  if (external) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error(`project ${project.name} needs DATABASE_URL`);
    serverUrl = url;
  } else {
    // The cluster's files belong to the `postgres` user when running as root: the folder must be reachable.
    const dir = mkdtempSync(join(tmpdir(), 'tributary-pg-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database: 'postgres' });
    serverUrl = server.url;
    stop = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  await prepareTemplateDatabase(serverUrl, template);
  project.provide('postgresServerUrl', serverUrl);
  project.provide('templateDatabase', template);
  project.provide('postgresKind', external ? 'external' : 'embedded');
  return async () => {
    await dropDatabase(serverUrl, template).catch(() => {});
    await stop();
  };
}
