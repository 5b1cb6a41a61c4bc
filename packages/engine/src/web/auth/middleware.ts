import { randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { getCookie, setCookie } from 'hono/cookie';
import type { UserRole } from '../../db/schema.js';
import { findUserByApiToken } from '../../service/tokens.js';
import { hasRole } from '../../service/users.js';
import { apiError } from '../errors.js';
import type { WebEnv } from '../types.js';
import { CSRF_COOKIE } from './csrf.js';
import { findSession } from './sessions.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'tributary_session';

/** The client's address: the socket's, or the first `X-Forwarded-For` entry when the proxy is trusted. */
function clientIp(c: Context<WebEnv>): string {
  if (c.get('options').trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // app.request() in tests has no socket.
    return 'local';
  }
}

/**
 * Find out who is calling: an `Authorization: Bearer` API token, else the session cookie. Sets
 * `user`, `authMethod`, `csrfToken` and `clientIp`; anonymous visitors get a CSRF cookie for the
 * login form. Rejects a Bearer token that is unknown, expired or revoked with 401.
 * @internal
 */
export function authenticate(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const db = c.get('engine').db;
    c.set('clientIp', clientIp(c));
    c.set('user', null);
    c.set('authMethod', null);
    c.set('csrfToken', '');
    const authorization = c.req.header('authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const user = match ? await findUserByApiToken(db, match[1]!) : null;
      if (!user) return apiError(c, 401, 'UNAUTHENTICATED', 'invalid, expired or revoked API token (send Authorization: Bearer <token>)');
      c.set('user', user);
      c.set('authMethod', 'token');
      return next();
    }
    const secret = getCookie(c, SESSION_COOKIE);
    const session = secret ? await findSession(db, secret) : null;
    if (session) {
      c.set('user', session.user);
      c.set('authMethod', 'session');
      c.set('csrfToken', session.csrfToken);
      return next();
    }
    let anonymous = getCookie(c, CSRF_COOKIE);
    if (!anonymous || anonymous.length < 32) {
      anonymous = randomBytes(32).toString('base64url');
      setCookie(c, CSRF_COOKIE, anonymous, { httpOnly: true, sameSite: 'Lax', secure: c.get('options').secureCookies, path: '/' });
    }
    c.set('csrfToken', anonymous);
    return next();
  };
}

/**
 * Let the request through only for a signed-in user with at least `role`: 401 when anonymous, 403
 * when the role is too low (JSON errors; pages may redirect anonymous visitors themselves first).
 */
export function requireRole(role: UserRole = 'viewer'): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (!user) return apiError(c, 401, 'UNAUTHENTICATED', 'sign in, or send Authorization: Bearer <API token>');
    if (!hasRole(user.role, role)) {
      return apiError(c, 403, 'FORBIDDEN', `user '${user.username}' has role ${user.role}; this needs ${role}`);
    }
    return next();
  };
}

/** The actor of this request for the audit log: who, and from which address. */
export function requestActor(c: Context<WebEnv>): { name: string; origin: string } {
  return { name: c.get('user')?.username ?? 'anonymous', origin: c.get('clientIp') };
}
