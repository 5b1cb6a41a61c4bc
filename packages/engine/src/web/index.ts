/**
 * The web monitor and REST API (`@tributary/engine/web`).
 * @packageDocumentation
 */
export { createWebApp } from './app.js';
export { DEFAULT_WEB_PORT, serveWeb, type WebServer } from './server.js';
export { DEFAULT_WEB_OPTIONS, resolveWebOptions, type ResolvedWebOptions, type WebOptions } from './options.js';
export { CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, csrfToken, htmxCsrfHeaders } from './auth/csrf.js';
export { requestActor, requireRole, SESSION_COOKIE } from './auth/middleware.js';
export { checkHealth, type HealthReport } from './health.js';
export { WebError, type ApiErrorBody } from './errors.js';
export type { AuthMethod, WebEnv, WebUser } from './types.js';
