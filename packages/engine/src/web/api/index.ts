import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { registerAdminRoutes } from './admin.js';
import { ERROR_RESPONSES, json, validationHook, type Api } from './common.js';
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

  registerDagRoutes(api);
  registerRunRoutes(api);
  registerResourceRoutes(api);
  registerAdminRoutes(api);

  api.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'Tributary REST API', version: API_VERSION, description: 'Workflow orchestration: DAGs, runs, task instances, pools, variables, connections, users.' },
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
