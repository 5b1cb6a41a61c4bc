import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from '../errors.js';
import type { WebEnv } from '../types.js';

/** Header htmx requests and API calls made with a session cookie send the CSRF token in. */
export const CSRF_HEADER = 'X-CSRF-Token';
/** Name of the hidden form field that carries the CSRF token. */
export const CSRF_FIELD = '_csrf';
/** Cookie holding the CSRF token of a visitor who is not signed in (double-submit, for the login form). */
export const CSRF_COOKIE = 'tributary_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The CSRF token of this request's browser, for a form's hidden `_csrf` field or the
 * `X-CSRF-Token` header. Signed in, it is the session's own token (synchronizer pattern); before
 * sign-in, the value of the `tributary_csrf` cookie (double-submit).
 *
 * @example
 * ```tsx
 * <form method="post" action="/logout"><input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />…</form>
 * <body hx-headers={htmxCsrfHeaders(c)}>…</body>
 * ```
 */
export function csrfToken(c: Context<WebEnv>): string {
  return c.get('csrfToken');
}

/** A JSON object for htmx's `hx-headers` attribute that sends the CSRF token with every htmx request. */
export function htmxCsrfHeaders(c: Context<WebEnv>): string {
  return JSON.stringify({ [CSRF_HEADER]: csrfToken(c) });
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function submittedToken(c: Context<WebEnv>): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    // parseBody caches the body, so the route can parse it again.
    const body = await c.req.parseBody();
    const value = body[CSRF_FIELD];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/**
 * Reject a state-changing request (POST, PUT, PATCH, DELETE) from a browser that does not prove it
 * came from one of our pages: the CSRF token must arrive in the `X-CSRF-Token` header or the `_csrf`
 * form field. Requests authenticated with a Bearer token carry no ambient credentials and need none.
 * The rejection is JSON, or `htmlError`'s page for a browser asking for HTML outside `/api/`.
 * @internal
 */
export function csrfProtection(options: { htmlError?: (c: Context<WebEnv>, status: 403, code: string, message: string) => Response | Promise<Response> } = {}): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.get('authMethod') === 'token') return next();
    const expected = c.get('csrfToken');
    const given = await submittedToken(c);
    if (!expected || !given || !same(given, expected)) {
      const message = `missing or wrong CSRF token: send the ${CSRF_HEADER} header or the ${CSRF_FIELD} form field (reload the page to get a fresh one)`;
      // A form posted by a browser gets a page it can read; scripts and the API get JSON.
      if (options.htmlError && !c.req.path.startsWith('/api/') && (c.req.header('accept') ?? '').includes('text/html')) {
        return options.htmlError(c, 403, 'CSRF_FAILED', message);
      }
      return apiError(c, 403, 'CSRF_FAILED', message);
    }
    return next();
  };
}
