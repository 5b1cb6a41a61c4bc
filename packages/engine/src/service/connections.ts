import type { Kysely } from 'kysely';
import type { ConnectionTable, Database } from '../db/schema.js';
import type { Selectable } from 'kysely';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from './audit.js';
import { pageBounds, type ListPage } from './paging.js';
import { MASK, maskSensitive } from './secrets.js';

/** A connection to an external system: where it is and how to sign in. */
export interface ConnectionFields {
  connType: string;
  description?: string | null;
  host?: string | null;
  port?: number | null;
  schema?: string | null;
  login?: string | null;
  password?: string | null;
  /** Anything else the connection type needs; values of secret-looking keys are masked on read. */
  extra?: Record<string, unknown>;
}

/** A connection as read by people: the password is {@link MASK} (or null when unset), `extra` masked. */
export interface ConnectionSummary {
  connId: string;
  connType: string;
  description: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  extra: Record<string, unknown>;
  updatedAt: Date;
}

const CONN_ID = /^[A-Za-z0-9_.-]{1,250}$/;

function check(fields: Partial<ConnectionFields>, connId?: string): void {
  if (connId !== undefined && !CONN_ID.test(connId)) throw new InvalidInputError('connId', `expected 1-250 letters, digits, '_', '.' or '-', got '${connId}'`);
  if (fields.connType !== undefined && !fields.connType.trim()) throw new InvalidInputError('connType', 'give the connection type (postgres, http, s3, …)');
  if (fields.port != null && (!Number.isInteger(fields.port) || fields.port < 1 || fields.port > 65535)) {
    throw new InvalidInputError('port', `expected a port number 1-65535, got ${fields.port}`);
  }
}

function summarize(row: Selectable<ConnectionTable>, reveal: boolean): ConnectionSummary {
  return {
    connId: row.conn_id,
    connType: row.conn_type,
    description: row.description,
    host: row.host,
    port: row.port,
    schema: row.schema,
    login: row.login,
    password: row.password === null ? null : reveal ? row.password : MASK,
    extra: reveal ? row.extra : (maskSensitive(row.extra) as Record<string, unknown>),
    updatedAt: row.updated_at,
  };
}

/** Connections by id (every one, or one page), secrets masked unless `reveal` (for the CLI). */
export async function listConnections(db: Kysely<Database>, options: ListPage & { reveal?: boolean } = {}): Promise<ConnectionSummary[]> {
  const { limit, offset } = pageBounds(options);
  const rows = await db.selectFrom('tributary.connection').selectAll().orderBy('conn_id').$if(limit !== null, (q) => q.limit(limit!)).offset(offset).execute();
  return rows.map((r) => summarize(r, options.reveal ?? false));
}

/** How many connections there are. */
export async function countConnections(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('tributary.connection').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One connection, secrets masked unless `reveal` (for code that connects with it). */
export async function getConnection(db: Kysely<Database>, connId: string, options: { reveal?: boolean } = {}): Promise<ConnectionSummary> {
  const row = await db.selectFrom('tributary.connection').selectAll().where('conn_id', '=', connId).executeTakeFirst();
  if (!row) throw new NotFoundError(`connection '${connId}'`, { field: 'connId' });
  return summarize(row, options.reveal ?? false);
}

/** Create a connection. The audit entry never holds its secrets. */
export async function createConnection(db: Kysely<Database>, connId: string, fields: ConnectionFields, actor: Actor): Promise<ConnectionSummary> {
  check(fields, connId);
  return withTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('tributary.connection')
      .values({
        conn_id: connId, conn_type: fields.connType, description: fields.description ?? null, host: fields.host ?? null, port: fields.port ?? null,
        schema: fields.schema ?? null, login: fields.login ?? null, password: fields.password ?? null, extra: JSON.stringify(fields.extra ?? {}),
      })
      .onConflict((oc) => oc.column('conn_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new AlreadyExistsError(`connection '${connId}'`, { field: 'connId' });
    await recordAudit(trx, actor, { action: 'connection_create', object: `connection:${connId}`, details: { connType: fields.connType } });
    return summarize(row, false);
  });
}

/**
 * Change some fields of a connection. A password left out, or sent back as {@link MASK} (as read),
 * stays as it was; `null` removes it. Masked values in `extra` keep their stored values too.
 */
export async function updateConnection(db: Kysely<Database>, connId: string, changes: Partial<ConnectionFields>, actor: Actor): Promise<ConnectionSummary> {
  check(changes);
  return withTransaction(db, async (trx) => {
    const current = await trx.selectFrom('tributary.connection').selectAll().where('conn_id', '=', connId).forUpdate().executeTakeFirst();
    if (!current) throw new NotFoundError(`connection '${connId}'`, { field: 'connId' });
    const keepMasked = (next: Record<string, unknown>, old: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(next).map(([k, v]) => [k, v === MASK && k in old ? old[k] : v]));
    const row = await trx
      .updateTable('tributary.connection')
      .set({
        ...(changes.connType === undefined ? {} : { conn_type: changes.connType }),
        ...(changes.description === undefined ? {} : { description: changes.description }),
        ...(changes.host === undefined ? {} : { host: changes.host }),
        ...(changes.port === undefined ? {} : { port: changes.port }),
        ...(changes.schema === undefined ? {} : { schema: changes.schema }),
        ...(changes.login === undefined ? {} : { login: changes.login }),
        ...(changes.password === undefined || changes.password === MASK ? {} : { password: changes.password }),
        ...(changes.extra === undefined ? {} : { extra: JSON.stringify(keepMasked(changes.extra, current.extra)) }),
        updated_at: new Date(),
      })
      .where('conn_id', '=', connId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: 'connection_update', object: `connection:${connId}`, details: { fields: Object.keys(changes) } });
    return summarize(row, false);
  });
}

/** Delete a connection. */
export async function deleteConnection(db: Kysely<Database>, connId: string, actor: Actor): Promise<void> {
  await withTransaction(db, async (trx) => {
    const row = await trx.deleteFrom('tributary.connection').where('conn_id', '=', connId).returning('conn_id').executeTakeFirst();
    if (!row) throw new NotFoundError(`connection '${connId}'`, { field: 'connId' });
    await recordAudit(trx, actor, { action: 'connection_delete', object: `connection:${connId}` });
  });
}
