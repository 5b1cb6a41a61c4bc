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
  /**
   * With `pgStats`: the statements that took the most server time since the last call (then the
   * counters restart), as printable lines; null without it.
   */
  takeStatementStats?(limit?: number): Promise<string[]>;
}

/** Options of {@link startBenchPostgres}. */
export interface BenchPostgresOptions {
  /** Load pg_stat_statements into the embedded server (ignored with DATABASE_URL). */
  pgStats?: boolean;
}

/** Use `DATABASE_URL` when set, else start an embedded PostgreSQL in a temporary directory. */
export async function startBenchPostgres(options: BenchPostgresOptions = {}): Promise<BenchPostgres> {
  let serverUrl = process.env.DATABASE_URL;
  let stopServer = async (): Promise<void> => {};
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      database: 'postgres',
      settings: options.pgStats ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {},
    });
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
  const pgStats = Boolean(options.pgStats) && !process.env.DATABASE_URL;
  if (pgStats) await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
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
    ...(pgStats ? { takeStatementStats: (limit?: number) => statementStats(withDatabase(url, 'postgres'), limit) } : {}),
    stop: async () => {
      await dropDatabase(url, template).catch(() => {});
      await stopServer();
    },
  };
}

/** Top statements by total server time since the last reset, then reset. */
async function statementStats(url: string, limit = 15): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ calls: string; total: number; mean: number; rows: string; query: string }>(
      `SELECT calls, total_exec_time AS total, mean_exec_time AS mean, rows, query FROM pg_stat_statements
        ORDER BY total_exec_time DESC LIMIT $1`,
      [limit],
    );
    await client.query('SELECT pg_stat_statements_reset()');
    return rows.rows.map(
      (r) => `${r.total.toFixed(0).padStart(8)} ms ${String(r.calls).padStart(7)} calls ${r.mean.toFixed(3).padStart(8)} ms/call  ${r.query.replace(/\s+/g, ' ').slice(0, 140)}`,
    );
  } finally {
    await client.end();
  }
}
