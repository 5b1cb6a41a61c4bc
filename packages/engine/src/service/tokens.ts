import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from './audit.js';
import { pageBounds, type ListPage } from './paging.js';

/** Every API token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const API_TOKEN_PREFIX = 'trb_';

/** An API token as listed (never the token itself). */
export interface ApiTokenSummary {
  id: number;
  username: string;
  name: string;
  /** The token's first characters. */
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** SHA-256 of a high-entropy secret, hex (tokens and session ids are random, so no slow hash is needed). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Create an API token for a user. Returns the token (shown once: only its hash is stored) and its
 * summary.
 */
export async function createApiToken(
  db: Kysely<Database>,
  options: { username: string; name: string; expiresAt?: Date | null },
  actor: Actor,
): Promise<{ token: string; summary: ApiTokenSummary }> {
  if (!options.name.trim()) throw new InvalidInputError('name', 'give the token a name');
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return withTransaction(db, async (trx) => {
    const user = await trx.selectFrom('tributary.web_user').select('id').where('username', '=', options.username).executeTakeFirst();
    if (!user) throw new NotFoundError(`user '${options.username}'`);
    const row = await trx
      .insertInto('tributary.api_token')
      .values({ user_id: user.id, name: options.name.trim(), token_hash: hashSecret(token), prefix: token.slice(0, 10), expires_at: options.expiresAt ?? null })
      .returning(['id', 'name', 'prefix', 'created_at', 'expires_at', 'last_used_at'])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: 'token_create', object: `token:${row.id}`, details: { user: options.username, name: row.name } });
    return {
      token,
      summary: { id: row.id, username: options.username, name: row.name, prefix: row.prefix, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at },
    };
  });
}

/** API tokens, oldest first, of one user (`username`) or of everyone: all of them, or one page. */
export async function listApiTokens(db: Kysely<Database>, options: ListPage & { username?: string } = {}): Promise<ApiTokenSummary[]> {
  const { username } = options;
  const { limit, offset } = pageBounds(options);
  let query = db
    .selectFrom('tributary.api_token as t')
    .innerJoin('tributary.web_user as u', 'u.id', 't.user_id')
    .select(['t.id', 'u.username', 't.name', 't.prefix', 't.created_at', 't.expires_at', 't.last_used_at'])
    .orderBy('t.id')
    .$if(limit !== null, (q) => q.limit(limit!))
    .offset(offset);
  if (username !== undefined) query = query.where('u.username', '=', username);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, username: r.username, name: r.name, prefix: r.prefix, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at }));
}

/** How many API tokens there are, of one user or of everyone. */
export async function countApiTokens(db: Kysely<Database>, username?: string): Promise<number> {
  const row = await db
    .selectFrom('tributary.api_token as t')
    .innerJoin('tributary.web_user as u', 'u.id', 't.user_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .$if(username !== undefined, (q) => q.where('u.username', '=', username!))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Revoke a token; when `username` is given it must be theirs. */
export async function revokeApiToken(db: Kysely<Database>, id: number, actor: Actor, username?: string): Promise<void> {
  await withTransaction(db, async (trx) => {
    let query = trx.deleteFrom('tributary.api_token').where('id', '=', id);
    if (username !== undefined) {
      query = query.where('user_id', '=', trx.selectFrom('tributary.web_user').select('id').where('username', '=', username));
    }
    const row = await query.returning('id').executeTakeFirst();
    if (!row) throw new NotFoundError(`API token ${id}`);
    await recordAudit(trx, actor, { action: 'token_revoke', object: `token:${id}` });
  });
}

/** The enabled user an unexpired token belongs to, or null; records (to the minute) when it was last used. */
export async function findUserByApiToken(db: Kysely<Database>, token: string): Promise<{ id: number; username: string; role: UserRole } | null> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  const row = await db
    .selectFrom('tributary.api_token as t')
    .innerJoin('tributary.web_user as u', 'u.id', 't.user_id')
    .select(['t.id as tokenId', 't.last_used_at', 'u.id', 'u.username', 'u.role'])
    .where('t.token_hash', '=', hashSecret(token))
    .where('u.disabled', '=', false)
    .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', new Date())]))
    .executeTakeFirst();
  if (!row) return null;
  // One write a minute per token at most, not one per request.
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable('tributary.api_token').set({ last_used_at: new Date() }).where('id', '=', row.tokenId).execute();
  }
  return { id: row.id, username: row.username, role: row.role };
}
