import { createHash } from 'node:crypto';
import type { Kysely, QueryResult, RawBuilder, Transaction } from 'kysely';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { PipelinedConnection } from './pipeline.js';

/** Statement texts run as named prepared statements, with their names. */
const PREPARED = new Map<string, string>();

/**
 * Run a hot-path statement as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of on every call (planning the engine's claim and success statements cost about
 * as much as running them). The text of `query` must not vary between calls — values go in
 * parameters (arrays for batches) — so one name serves every call. On a {@link PipelinedConnection}
 * the statement is sent at once.
 */
export function executePrepared<R>(db: Kysely<any> | Transaction<any> | PipelinedConnection, query: RawBuilder<R>): Promise<QueryResult<R>> {
  const compiled = query.compile('pipelined' in db ? db.db : db);
  if (!PREPARED.has(compiled.sql)) PREPARED.set(compiled.sql, `tributary_${createHash('sha1').update(compiled.sql).digest('hex').slice(0, 16)}`);
  return 'pipelined' in db ? db.executeCompiled(compiled) : db.executeQuery(compiled);
}

/**
 * A pool whose connections run the statements registered by {@link executePrepared} as named
 * prepared statements (and everything else as before). Give it to kysely's `PostgresDialect`.
 * @internal
 */
export function preparingPool(pool: PostgresPool): PostgresPool {
  return {
    Client: pool.Client,
    options: pool.options,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        get processID() {
          return client.processID;
        },
        query: ((text: unknown, values?: readonly unknown[]) => {
          const name = typeof text === 'string' ? PREPARED.get(text) : undefined;
          return name === undefined ? client.query(text as never, values as never) : client.query({ name, text, values } as never);
        }) as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  };
}
