import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '@tributary/engine';
import { createTestDatabase, dropDatabase, prepareTemplateDatabase, withDatabase } from '@tributary/engine/testing';

/** The PostgreSQL server every scenario of one bench run uses. */
export interface BenchPostgres {
  readonly kind: 'embedded' | 'external';
  readonly serverUrl: string;
  /** `SELECT version()` of the server. */
  readonly version: string;
  /** A fresh migrated database for one scenario. */
  freshDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  /** An empty database (for baselines with their own schema). */
  emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  stop(): Promise<void>;
}

/** Use `DATABASE_URL` when set, else start an embedded PostgreSQL in a temporary directory. */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  let serverUrl = process.env.DATABASE_URL;
  let stopServer = async (): Promise<void> => {};
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database: 'postgres' });
    serverUrl = server.url;
    stopServer = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const url = serverUrl;
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  const version = ((await client.query('SELECT version()')).rows[0] as { version: string }).version;
  await client.end();
  const template = `tributary_bench_template_${process.pid}`;
  await prepareTemplateDatabase(url, template);
  let counter = 0;
  return {
    kind: process.env.DATABASE_URL ? 'external' : 'embedded',
    serverUrl: url,
    version,
    freshDatabase: () => createTestDatabase(url, template),
    emptyDatabase: async () => {
      const name = `tributary_bench_empty_${process.pid}_${counter++}`;
      const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      return { url: withDatabase(url, name), drop: () => dropDatabase(url, name) };
    },
    stop: async () => {
      await dropDatabase(url, template).catch(() => {});
      await stopServer();
    },
  };
}
