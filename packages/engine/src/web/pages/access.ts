import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { UserRole } from '../../db/schema.js';
import { hasRole } from '../../service/users.js';
import type { WebEnv } from '../types.js';
import { withQuery } from './paths.js';
import { errorPage } from './error-page.js';

/** Cookie carrying a one-time notice to the next page ("Cleared 3 task instances."). */
export const FLASH_COOKIE = 'tributary_flash';

/**
 * The Content-Security-Policy of every page: scripts only from our own origin (htmx and app.js are
 * served from /static), so even text that escaped escaping could not run. Inline `style` attributes
 * are allowed for bar heights and widths; nothing else inline.
 */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** A notice shown once on the next page the browser loads (after a redirect). */
export function setFlash(c: Context<WebEnv>, message: string, kind: 'ok' | 'error' = 'ok'): void {
  setCookie(c, FLASH_COOKIE, encodeURIComponent(`${kind}:${message.slice(0, 500)}`), { httpOnly: true, sameSite: 'Lax', secure: c.get('options').secureCookies, path: '/' });
}

/** The notice left for this page by {@link setFlash}, if any. */
export function flashOf(c: Context<WebEnv>): { kind: 'ok' | 'error'; message: string } | null {
  return c.get('flash') ?? null;
}

/** Whether htmx asked for a fragment to put in the confirmation dialog rather than a whole page. */
export function wantsDialog(c: Context<WebEnv>): boolean {
  return c.req.header('hx-request') === 'true' && (c.req.header('hx-target') ?? '').includes('dialog-body');
}

/** Whether this is an htmx request (polling, partial updates). */
export function isHtmx(c: Context<WebEnv>): boolean {
  return c.req.header('hx-request') === 'true';
}

/**
 * Every HTML page: the CSP header, and the one-time notice taken from its cookie (only by a full
 * page load, so htmx polls do not swallow it).
 */
export function pageSecurity(): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const flash = getCookie(c, FLASH_COOKIE);
    if (flash !== undefined && c.req.method === 'GET' && !isHtmx(c)) {
      deleteCookie(c, FLASH_COOKIE, { path: '/' });
      let text = '';
      try {
        text = decodeURIComponent(flash);
      } catch {
        // a cookie we did not write: ignore it
      }
      const kind = text.startsWith('error:') ? 'error' : 'ok';
      if (text) c.set('flash', { kind, message: text.slice(text.indexOf(':') + 1) });
    }
    await next();
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) c.res.headers.set('Content-Security-Policy', PAGE_CSP);
  };
}

/**
 * Let a page request through only for a signed-in user with at least `role`: anonymous visitors are
 * sent to the sign-in form (and back here afterwards), too low a role gets a 403 page saying which
 * role is needed.
 */
export function pageAccess(role: UserRole): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (!user) {
      if (c.req.method === 'GET' && !isHtmx(c)) {
        const url = new URL(c.req.url);
        return c.redirect(withQuery('/login', { next: url.pathname + url.search }), 303);
      }
      return errorPage(c, 401, 'UNAUTHENTICATED', 'Your session ended: sign in again.');
    }
    if (!hasRole(user.role, role)) {
      return errorPage(c, 403, 'FORBIDDEN', `User '${user.username}' has role ${user.role}; this needs ${role}.`);
    }
    return next();
  };
}
