import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { registerAdminRoutes } from './admin.js';
import { registerBackfillRoutes } from './backfills.js';
import { body, ERROR_RESPONSES, ErrorSchema, json, validationHook, type Api } from './common.js';
import { registerDagRoutes } from './dags.js';
import { registerResourceRoutes } from './resources.js';
import { registerRunRoutes } from './runs.js';

/** Version of the REST API document. */
export const API_VERSION = '1.0.0';

const MeSchema = z
  .object({
    username: z.string(),
    role: z.enum(['viewer', 'operator', 'admin']),
    authMethod: z.enum(['session', 'token']),
  })
  .openapi('Me');

const LoginRequest = z
  .object({ username: z.string().openapi({ example: 'ana' }), password: z.string(), next: z.string().optional().openapi({ description: 'Forms only: the same-site path to go to afterwards' }) })
  .openapi('LoginRequest');
const LoginResponse = z
  .object({ user: z.object({ username: z.string(), role: z.enum(['viewer', 'operator', 'admin']) }), csrfToken: z.string().openapi({ description: 'Send it as X-CSRF-Token with every state-changing request of this session' }) })
  .openapi('LoginResponse');

/**
 * Document `POST /login` and `POST /logout` (served by the auth routes outside `/api/v1`, so their
 * operations name the site root as their server). With a JSON body they answer JSON; a form post
 * is redirected instead.
 */
function registerSessionPaths(api: Api): void {
  const root = [{ url: '/', description: 'Served at the site root, not under /api/v1' }];
  const csrf = 'Needs the CSRF token like every state-changing request made with cookies: before sign-in, the value of the `tributary_csrf` cookie (set by any page) in the `X-CSRF-Token` header.';
  api.openAPIRegistry.registerPath({
    method: 'post',
    path: '/login',
    servers: root,
    tags: ['users'],
    summary: 'Sign in: sets the session cookie and returns the session CSRF token',
    description: `${csrf} After 10 failed sign-ins from one address within 5 minutes, further attempts get 429 for a while. A form post (not JSON) is redirected to \`next\`.`,
    security: [],
    request: { body: body(LoginRequest) },
    responses: {
      200: json(LoginResponse, 'Signed in; the `tributary_session` cookie is set'),
      401: { description: '`LOGIN_FAILED` (field `password`): wrong username or password, or the user is disabled', content: { 'application/json': { schema: ErrorSchema } } },
      403: ERROR_RESPONSES[403],
      429: { description: '`TOO_MANY_ATTEMPTS`', content: { 'application/json': { schema: ErrorSchema } } },
    },
  });
  api.openAPIRegistry.registerPath({
    method: 'post',
    path: '/logout',
    servers: root,
    tags: ['users'],
    summary: 'Sign out: ends the session and clears its cookie',
    description: 'Send `content-type: application/json` to get JSON rather than a redirect, and the session CSRF token in `X-CSRF-Token`.',
    security: [{ session: [] }],
    responses: { 200: json(z.object({ ok: z.literal(true) }), 'Signed out'), 403: ERROR_RESPONSES[403] },
  });
}

function swaggerAsset(name: string): string {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return readFileSync(join(dir, name), 'utf8');
}

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tributary REST API</title>
<link rel="stylesheet" href="/api/v1/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/v1/docs/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/init.js"></script></body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

/**
 * The REST API mounted at `/api/v1`: every route validated with zod, and the OpenAPI 3 document at
 * `/openapi.json` generated from the same schemas; a Swagger UI page at `/docs` served from
 * node_modules.
 * @internal
 */
export function createApi(): Api {
  const api = new OpenAPIHono<WebEnv>({ defaultHook: validationHook as never });

  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API token (`tributary users token` or POST /api/v1/tokens)' });
  api.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: 'tributary_session' });

  api.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['users'],
      summary: 'Who the caller is',
      middleware: [requireRole('viewer')] as const,
      responses: { 200: json(MeSchema, 'The signed-in user'), 401: ERROR_RESPONSES[401] },
    }),
    (c) => {
      const user = c.get('user')!;
      return c.json({ username: user.username, role: user.role, authMethod: c.get('authMethod')! }, 200);
    },
  );

  registerSessionPaths(api);
  registerDagRoutes(api);
  registerRunRoutes(api);
  registerBackfillRoutes(api);
  registerResourceRoutes(api);
  registerAdminRoutes(api);

  api.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'Tributary REST API', version: API_VERSION, description: 'Workflow orchestration: DAGs, runs, task instances, backfills, pools, variables, connections, users.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
  });

  let assets: Record<string, { type: string; body: string }> | null = null;
  const docsAsset = (name: string): { type: string; body: string } | undefined => {
    assets ??= {
      'swagger-ui.css': { type: 'text/css; charset=utf-8', body: swaggerAsset('swagger-ui.css') },
      'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', body: swaggerAsset('swagger-ui-bundle.js') },
      'init.js': { type: 'text/javascript; charset=utf-8', body: DOCS_INIT },
    };
    return assets[name];
  };
  api.get('/docs', (c) => c.html(DOCS_HTML));
  api.get('/docs/:asset', (c) => {
    const asset = docsAsset(c.req.param('asset'));
    if (!asset) return c.notFound();
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });
  return api;
}
