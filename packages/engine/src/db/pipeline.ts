import { CompiledQuery, type Kysely, type PostgresPool, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * One pooled connection on which each statement is sent as soon as it is given, before the earlier
 * ones are answered (PostgreSQL's pipelining; answers still come in order). A transaction can then
 * send statements that do not depend on each other in one round trip — a worker's BEGIN and fetch,
 * its claim and the jobs' completion. Kysely runs one statement at a time on a connection, so this
 * goes to the pool's client itself.
 */
export interface PipelinedConnection {
  readonly pipelined: true;
  /** Statements sent so far (by {@link executeCompiled} and {@link executeSql}, when called). */
  readonly sent: number;
  /** Compiles the statements given to {@link executeCompiled}. */
  readonly db: Kysely<Database>;
  /** Send `query` now. */
  executeCompiled<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /** Send a statement given as text (pg-boss's database adapter shape). */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** Runs `work` on a {@link PipelinedConnection}, released when `work` settles (after awaiting every statement it sent). */
export type PipelineProvider = <T>(work: (conn: PipelinedConnection) => Promise<T>) => Promise<T>;

/** A {@link PipelinedConnection} sending compiled statements with `send`, counting them. */
function connection(db: Kysely<Database>, send: <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>>): PipelinedConnection {
  let sent = 0;
  const executeCompiled = <R>(query: CompiledQuery<R>): Promise<QueryResult<R>> => {
    sent++;
    return send(query);
  };
  return {
    pipelined: true,
    get sent() {
      return sent;
    },
    db,
    executeCompiled,
    executeSql: async (text, values = []) => ({ rows: [...(await executeCompiled(CompiledQuery.raw(text, values))).rows] }),
  };
}

/** A provider over a pool whose clients pipeline (pg's `pipeline: true`). @internal */
export function poolPipeline(pool: PostgresPool, db: Kysely<Database>): PipelineProvider {
  return async (work) => {
    const client = await pool.connect();
    try {
      return await work(
        connection(db, async <R>(query: CompiledQuery<R>): Promise<QueryResult<R>> => {
          const result = await client.query<R>(query.sql, [...query.parameters]);
          return { rows: result.rows, ...(result.rowCount !== null ? { numAffectedRows: BigInt(result.rowCount) } : {}) };
        }),
      );
    } finally {
      client.release();
    }
  };
}

/**
 * A provider through kysely, for a handle without a pool of its own: correct, but statements go one
 * at a time (kysely queues them on the connection in call order, so each counts as sent when given).
 * @internal
 */
export function kyselyPipeline(db: Kysely<Database>): PipelineProvider {
  return (work) => db.connection().execute((conn) => work(connection(conn, (query) => conn.executeQuery(query))));
}
