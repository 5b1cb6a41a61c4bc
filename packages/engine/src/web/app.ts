import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Tributary } from '../engine.js';
import { createApi } from './api/index.js';
import { csrfProtection } from './auth/csrf.js';
import { authenticate } from './auth/middleware.js';
import { authRoutes } from './auth/routes.js';
import { apiError, describeWebError } from './errors.js';
import { checkHealth } from './health.js';
import { WebMetrics } from './metrics.js';
import { pluginRoutesHandler, runPluginHealthChecks } from '../plugin/http.js';
import { resolveWebOptions, type WebOptions } from './options.js';
import { registerPages } from './pages/index.js';
import { registerAssets } from './pages/assets.js';
import { errorPage } from './pages/error-page.js';
import type { WebEnv } from './types.js';

/**
 * The web monitor and REST API of an engine, as a Hono app: HTML pages at `/`, the REST API at
 * `/api/v1` (OpenAPI document at `/api/v1/openapi.json`, docs at `/api/v1/docs`), `POST /login`,
 * `POST /logout`, `/healthz` and `/metrics`. Serve it with {@link serveWeb}, or test it with
 * `app.request()`.
 *
 * @example
 * ```ts
 * const app = createWebApp(engine, { secureCookies: true });
 * const server = await serveWeb(app, { port: 8080 });
 * ```
 */
export function createWebApp(engine: Tributary, options: WebOptions = {}): Hono<WebEnv> {
  const resolved = resolveWebOptions(options);
  const app = new Hono<WebEnv>();

  app.use('*', async (c, next) => {
    c.set('engine', engine);
    c.set('options', resolved);
    await next();
  });
  app.use('*', secureHeaders({ crossOriginEmbedderPolicy: false }));
  app.use(
    '*',
    bodyLimit({
      maxSize: resolved.maxBodyBytes,
      onError: (c) => apiError(c, 413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${resolved.maxBodyBytes} bytes`),
    }),
  );

  // Health and metrics are for probes and Prometheus: no sign-in, nothing secret in them.
  // Plugin health checks are reported alongside but do not make the engine unhealthy (a scraped
  // site being down is not a reason to restart the webserver).
  app.get('/healthz', async (c) => {
    const [report, plugins] = await Promise.all([
      checkHealth(engine.db, { heartbeatTimeoutMs: engine.config.heartbeatTimeoutMs }),
      runPluginHealthChecks(engine.plugins),
    ]);
    return c.json({ ...report, plugins }, report.status === 'healthy' ? 200 : 503);
  });
  // Probes for the webserver itself: /healthz is about the whole deployment and answers 503 while
  // schedulers or workers are down, which must not restart or unroute the monitor used to look into it.
  app.get('/livez', (c) => c.json({ status: 'alive' }));
  app.get('/readyz', async (c) => {
    const database = (await checkHealth(engine.db, { heartbeatTimeoutMs: engine.config.heartbeatTimeoutMs })).database;
    return c.json({ status: database.status === 'healthy' ? 'ready' : 'not ready', database }, database.status === 'healthy' ? 200 : 503);
  });
  let metrics: WebMetrics | null = null;
  app.get('/metrics', async (c) => {
    metrics ??= new WebMetrics(engine.db, { heartbeatTimeoutMs: engine.config.heartbeatTimeoutMs, cacheMs: resolved.metricsCacheMs });
    const { contentType, body } = await metrics.render();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  // Plugin routes (`/plugins/<name>/…`) answer callers outside the monitor (webhooks), so they sit
  // before sign-in: a plugin authenticates its own callers.
  const pluginRoutes = pluginRoutesHandler(engine.plugins);
  app.all('/plugins/*', (c) => pluginRoutes(c.req.raw));

  // The pages' stylesheet and scripts need no sign-in (the login page uses them) nor a session lookup.
  registerAssets(app);

  app.use('*', authenticate());
  app.use('*', csrfProtection({ htmlError: errorPage }));
  app.route('/', authRoutes());
  app.route('/api/v1', createApi());
  registerPages(app);

  app.notFound((c) =>
    c.req.path.startsWith('/api/') ? apiError(c, 404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`) : errorPage(c, 404, 'NOT_FOUND', `There is no page at ${c.req.path}.`),
  );
  app.onError((error, c) => {
    const { status, body } = describeWebError(error);
    if (status >= 500) engine.log.error({ err: error, path: c.req.path, method: c.req.method }, 'web request failed');
    if (c.req.path.startsWith('/api/') || (c.req.header('accept') ?? '').includes('application/json')) return c.json(body, status);
    // The message names the DAG, run or task that was not found ("run 'x' of DAG 'y' not found").
    return errorPage(c, status, body.error.code, body.error.message);
  });
  return app;
}
