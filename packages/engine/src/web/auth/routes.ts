import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { recordAudit } from '../../service/audit.js';
import { authenticateUser } from '../../service/users.js';
import { apiError } from '../errors.js';
import { loginPage } from '../pages/login.js';
import type { WebEnv } from '../types.js';
import { requestActor, SESSION_COOKIE } from './middleware.js';
import { createSession, deleteSession } from './sessions.js';

/** Failed sign-ins allowed per client address within {@link LOGIN_WINDOW_MS}. */
export const MAX_LOGIN_FAILURES = 10;
const LOGIN_WINDOW_MS = 5 * 60 * 1000;

/** Only same-site paths are followed after sign-in (no `//evil.example`, no `https://…`). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

function wantsJson(c: Context<WebEnv>): boolean {
  return (c.req.header('content-type') ?? '').startsWith('application/json');
}

async function credentials(c: Context<WebEnv>): Promise<{ username: string; password: string; next: string }> {
  const body: Record<string, unknown> = wantsJson(c) ? ((await c.req.json().catch(() => ({}))) as Record<string, unknown>) : await c.req.parseBody();
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { username: text(body.username).trim(), password: text(body.password), next: safeNext(body.next) };
}

/** `POST /login` and `POST /logout`, each with an audit entry. @internal */
export function authRoutes(): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const failures = new Map<string, number[]>();

  app.post('/login', async (c) => {
    const { db } = c.get('engine');
    const { username, password, next } = await credentials(c);
    const ip = c.get('clientIp');
    const now = Date.now();
    const recent = (failures.get(ip) ?? []).filter((t) => now - t < LOGIN_WINDOW_MS);
    if (recent.length >= MAX_LOGIN_FAILURES) {
      return apiError(c, 429, 'TOO_MANY_ATTEMPTS', 'too many failed sign-ins from this address; try again in a few minutes');
    }
    const user = username && password ? await authenticateUser(db, username, password) : null;
    if (!user) {
      // Forget addresses whose failures are all old, so the map cannot grow without bound.
      if (failures.size > 10_000) for (const [key, times] of failures) if (now - times.at(-1)! >= LOGIN_WINDOW_MS) failures.delete(key);
      failures.set(ip, [...recent, now]);
      await recordAudit(db, { name: username || 'anonymous', origin: ip }, { action: 'login_failed' });
      if (wantsJson(c)) return apiError(c, 401, 'LOGIN_FAILED', 'wrong username or password', 'password');
      c.status(401);
      return c.html(loginPage(c, { error: 'Wrong username or password.', username, next }));
    }
    failures.delete(ip);
    const { options } = c.var;
    const session = await createSession(db, user.id, { ttlMs: options.sessionTtlMs, ip, userAgent: c.req.header('user-agent') });
    setCookie(c, SESSION_COOKIE, session.secret, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: options.secureCookies,
      path: '/',
      expires: session.expiresAt,
    });
    await recordAudit(db, { name: user.username, origin: ip }, { action: 'login', object: `user:${user.username}` });
    if (wantsJson(c)) return c.json({ user: { username: user.username, role: user.role }, csrfToken: session.csrfToken });
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    const { db } = c.get('engine');
    const secret = getCookie(c, SESSION_COOKIE);
    if (secret) await deleteSession(db, secret);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    if (c.get('user')) await recordAudit(db, requestActor(c), { action: 'logout', object: `user:${c.get('user')!.username}` });
    if (wantsJson(c)) return c.json({ ok: true });
    return c.redirect('/', 303);
  });

  return app;
}
