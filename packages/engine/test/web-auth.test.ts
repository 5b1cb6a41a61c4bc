import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { setupEngine, type TestSetup } from './helpers.js';
import { bearer, seedUsers, WebClient } from './support/web-client.js';

let setup: TestSetup;
let app: Hono<WebEnv>;
let users: Awaited<ReturnType<typeof seedUsers>>;
beforeAll(async () => {
  setup = await setupEngine();
  app = createWebApp(setup.engine);
  users = await seedUsers(setup.engine);
});
afterAll(() => setup?.close());

const audit = (action: string) => setup.engine.db.selectFrom('tributary.audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

describe('signing in', () => {
  it('shows the login form to an anonymous visitor at / with a CSRF field and an HttpOnly CSRF cookie', async () => {
    const client = new WebClient(app);
    const response = await client.request('/');
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<form method="post" action="/login"');
    expect(page).toMatch(/name="_csrf" value="[\w-]{40,}"/);
    expect(response.headers.getSetCookie().join('\n')).toMatch(/tributary_csrf=[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
  });

  it('signs in with the form, sets an HttpOnly SameSite session cookie and records who and from where', async () => {
    const client = new WebClient(app);
    const response = await client.login(users.operator.username, users.operator.password);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('tributary_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const home = await (await client.request('/')).text();
    expect(home).toContain('Signed in as <strong>operator-user</strong>');
    expect(await audit('login')).toContainEqual(expect.objectContaining({ actor: 'operator-user', object: 'user:operator-user', origin: 'local' }));
    const me = await client.request('/api/v1/me');
    expect(await me.json()).toEqual({ username: 'operator-user', role: 'operator', authMethod: 'session' });
  });

  it('marks cookies Secure when configured', async () => {
    const client = new WebClient(createWebApp(setup.engine, { secureCookies: true }));
    const response = await client.login(users.viewer.username, users.viewer.password);
    expect(response.headers.getSetCookie().find((c) => c.startsWith('tributary_session='))).toMatch(/; Secure/);
  });

  it('rejects a wrong password with the form again (401) and an audit entry of the failure', async () => {
    const client = new WebClient(app);
    const response = await client.login(users.admin.username, 'not-the-password');
    expect(response.status).toBe(401);
    const page = await response.text();
    expect(page).toContain('Wrong username or password.');
    expect(page).toContain('value="admin-user"');
    expect(client.cookies.has('tributary_session')).toBe(false);
    expect(await audit('login_failed')).toContainEqual(expect.objectContaining({ actor: 'admin-user' }));
  });

  it('rejects a login POST without the CSRF token (403) before looking at the password', async () => {
    const client = new WebClient(app);
    await client.fetchCsrf();
    const response = await client.request('/login', { method: 'POST', body: new URLSearchParams({ username: users.admin.username, password: users.admin.password }) });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    const wrong = await client.request('/login', { method: 'POST', body: new URLSearchParams({ username: users.admin.username, password: users.admin.password, _csrf: 'x'.repeat(43) }) });
    expect(wrong.status).toBe(403);
  });

  it('does not follow an off-site next after sign-in', async () => {
    const client = new WebClient(app);
    await client.fetchCsrf();
    const response = await client.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ username: users.viewer.username, password: users.viewer.password, _csrf: client.csrf, next: '//evil.example/x' }),
    });
    expect(response.headers.get('location')).toBe('/');
  });

  it('signs out: the session ends and the visitor sees the login form again', async () => {
    const client = new WebClient(app);
    await client.login(users.viewer.username, users.viewer.password);
    const session = client.cookies.get('tributary_session')!;
    expect((await client.request('/api/v1/me')).status).toBe(200);
    const noToken = await client.request('/logout', { method: 'POST' });
    expect(noToken.status).toBe(403);
    const out = await client.request('/logout', { method: 'POST', body: new URLSearchParams({ _csrf: client.csrf }) });
    expect(out.status).toBe(303);
    expect(await audit('logout')).toContainEqual(expect.objectContaining({ actor: 'viewer-user' }));
    // The old cookie no longer works even if replayed.
    const replay = await app.request('/api/v1/me', { headers: { cookie: `tributary_session=${session}` } });
    expect(replay.status).toBe(401);
  });
});

describe('API tokens and session API calls', () => {
  it('accepts a Bearer token without a CSRF token and rejects an unknown one', async () => {
    const me = await bearer(app, users.admin.token, 'GET', '/api/v1/me');
    expect(await me.json()).toEqual({ username: 'admin-user', role: 'admin', authMethod: 'token' });
    const bad = await bearer(app, 'trb_not-a-real-token', 'GET', '/api/v1/me');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
  });

  it('answers 401 JSON to an anonymous API call', async () => {
    const response = await app.request('/api/v1/me');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('sign in') } });
  });
});

describe('health, OpenAPI and limits', () => {
  it('/healthz reports 503 without a scheduler or workers, 200 with both', async () => {
    const down = await app.request('/healthz');
    expect(down.status).toBe(503);
    // The webserver's own probes do not depend on schedulers and workers.
    expect((await app.request('/livez')).status).toBe(200);
    expect(await (await app.request('/readyz')).json()).toMatchObject({ status: 'ready', database: { status: 'healthy' } });
    expect(await down.json()).toMatchObject({ status: 'unhealthy', database: { status: 'healthy' }, scheduler: { status: 'unhealthy', heartbeatAgeSeconds: null } });
    setup.engine.startScheduler();
    await setup.engine.startWorker();
    const { eventually } = await import('./helpers.js');
    const up = await eventually(async () => {
      const response = await app.request('/healthz');
      return response.status === 200 ? ((await response.json()) as { scheduler: { heartbeatAgeSeconds: number }; workers: { alive: number } }) : undefined;
    }, 20_000, 'a healthy /healthz');
    expect(up.scheduler.heartbeatAgeSeconds).toBeLessThan(10);
    expect(up.workers.alive).toBeGreaterThanOrEqual(1);
  });

  it('serves the OpenAPI 3 document and a docs page from node_modules', async () => {
    const doc = (await (await app.request('/api/v1/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/me');
    const docs = await app.request('/api/v1/docs');
    expect(await docs.text()).toContain('/api/v1/docs/swagger-ui-bundle.js');
    const bundle = await app.request('/api/v1/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
  });

  it('documents every route the REST API serves in the OpenAPI document, and nothing it does not serve', async () => {
    type Operation = { servers?: { url: string }[] };
    const doc = (await (await app.request('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, Operation>> };
    const documented = new Set<string>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // Paths are relative to the document's server (/api/v1) unless the operation names the site root.
        const base = operation.servers?.[0]?.url === '/' ? '' : '/api/v1';
        documented.add(`${method.toUpperCase()} ${base}${path}`);
      }
    }
    // The document and its viewer describe the API rather than being part of it; POST /login and
    // /logout answer JSON to JSON requests, so they belong in it.
    const notApi = new Set(['GET /api/v1/openapi.json', 'GET /api/v1/docs', 'GET /api/v1/docs/{asset}']);
    const jsonOutsideApi = new Set(['POST /login', 'POST /logout']);
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
        .filter((route) => (route.includes(' /api/v1/') && !notApi.has(route)) || jsonOutsideApi.has(route)),
    );
    expect([...served].filter((r) => !documented.has(r)), 'served but not documented').toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), 'documented but not served').toEqual([]);
    expect(served.size).toBeGreaterThan(40);
    expect(served).toContain('POST /api/v1/backfills');
  });

  it('answers 413 to an oversized body', async () => {
    const small = createWebApp(setup.engine, { maxBodyBytes: 1024 });
    const response = await small.request('/api/v1/me', {
      method: 'POST',
      headers: { authorization: `Bearer ${users.admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });
});
