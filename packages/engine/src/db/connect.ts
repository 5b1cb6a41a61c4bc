import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { poolPipeline, type PipelineProvider } from './pipeline.js';
import { preparingPool } from './prepared.js';
import type { Database } from './schema.js';

/** An open connection pool to the metadata database, with a kysely instance over it. */
export interface DatabaseHandle {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly db: Kysely<Database>;
  /** One connection that pipelines statements (see {@link PipelinedConnection}), for hot transactions. */
  readonly pipelined: PipelineProvider;
  /** Close the pool; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link connectDatabase}. */
export interface ConnectOptions {
  /**
   * Most connections the pool opens.
   * @defaultValue 10
   */
  max?: number;
  /** Shown in `pg_stat_activity`. */
  applicationName?: string;
  /**
   * Run the engine's hot-path statements as named prepared statements (parsed and planned once per
   * connection). Turn off behind a pooler that cannot keep them, such as PgBouncer before 1.21 in
   * transaction mode.
   * @defaultValue true
   */
  preparedStatements?: boolean;
  /** Called with errors of connections the server ended (e.g. it restarted); the pool replaces them. */
  onIdleError?: (error: Error) => void;
}

// int8 (bigserial ids, counts) as JS numbers: ids stay far below 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Open a pool to `url` (a `postgres://` connection string). */
export function connectDatabase(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tributary',
    types,
    // A connection sends a statement without waiting for the answer to the one before, so a
    // transaction can send statements that do not depend on each other together (see
    // PipelinedConnection). Kysely awaits its statements one by one: for it nothing changes.
    pipeline: true,
  });
  let closed: Promise<void> | null = null;
  // Every connection reports its own errors (below); the pool repeats those of idle ones here.
  pool.on('error', () => {});
  // pg-pool listens to a connection only while it is idle: one ended by the server while checked out
  // but between queries (inside a transaction) would emit 'error' unheard and crash the process. The
  // statement using it fails instead, and the pool discards it on release.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      // Once closing, connections ended by the server (e.g. embedded PostgreSQL stopping) are expected.
      if (!closed) options.onIdleError?.(error);
    });
  });
  const clients = options.preparedStatements === false ? pool : preparingPool(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: clients }) });
  return {
    url,
    pool,
    db,
    pipelined: poolPipeline(clients, db),
    close: () => (closed ??= db.destroy()),
  };
}

/** A URL with the password hidden, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
