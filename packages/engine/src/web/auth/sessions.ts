import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { hashSecret } from '../../service/tokens.js';
import type { WebUser } from '../types.js';

/** A browser session found by its cookie. */
export interface SessionInfo {
  user: WebUser;
  csrfToken: string;
  expiresAt: Date;
}

/** Start a session for a user; returns the cookie's secret (only its hash is stored). @internal */
export async function createSession(
  db: Kysely<Database>,
  userId: number,
  details: { ttlMs: number; ip: string; userAgent: string | undefined },
): Promise<{ secret: string; csrfToken: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + details.ttlMs);
  await db
    .insertInto('tributary.web_session')
    .values({ id_hash: hashSecret(secret), user_id: userId, csrf_token: csrfToken, expires_at: expiresAt, ip: details.ip, user_agent: details.userAgent?.slice(0, 300) ?? null })
    .execute();
  // Expired sessions are removed now and then, not on a timer of their own.
  if (Math.random() < 0.05) await db.deleteFrom('tributary.web_session').where('expires_at', '<', new Date()).execute();
  return { secret, csrfToken, expiresAt };
}

/** The live session of an enabled user whose cookie secret this is, or null. @internal */
export async function findSession(db: Kysely<Database>, secret: string): Promise<SessionInfo | null> {
  const row = await db
    .selectFrom('tributary.web_session as s')
    .innerJoin('tributary.web_user as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.username', 'u.role', 's.csrf_token', 's.expires_at'])
    .where('s.id_hash', '=', hashSecret(secret))
    .where('s.expires_at', '>', new Date())
    .where('u.disabled', '=', false)
    .executeTakeFirst();
  if (!row) return null;
  return { user: { id: row.id, username: row.username, role: row.role }, csrfToken: row.csrf_token, expiresAt: row.expires_at };
}

/** End a session. @internal */
export async function deleteSession(db: Kysely<Database>, secret: string): Promise<void> {
  await db.deleteFrom('tributary.web_session').where('id_hash', '=', hashSecret(secret)).execute();
}
