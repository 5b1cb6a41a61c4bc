import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConnection } from '../src/service/connections.js';
import { getVariable } from '../src/service/variables.js';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { setupEngine, type TestSetup } from './helpers.js';
import { apiAs, bearer, expectError as error, expectJson as ok, WebClient } from './support/web-client.js';

let setup: TestSetup;
let app: Hono<WebEnv>;
let users: Awaited<ReturnType<typeof apiAs>>['users'];
let as: Awaited<ReturnType<typeof apiAs>>['as'];
beforeAll(async () => {
  setup = await setupEngine();
  app = createWebApp(setup.engine);
  ({ users, as } = await apiAs(app, setup.engine));
});
afterAll(() => setup?.close());


describe('pools', () => {
  it('are read by viewers and managed by admins only, with field-naming errors and audit entries', async () => {
    const pools = await ok<{ pools: { name: string; slots: number; openSlots: number }[] }>(as('viewer', 'GET', '/pools'));
    expect(pools.pools).toEqual([expect.objectContaining({ name: 'default_pool', slots: 128, openSlots: 128, runningSlots: 0, queuedSlots: 0 })]);
    expect((await error(as('operator', 'POST', '/pools', { name: 'scraping', slots: 4 }), 403)).code).toBe('FORBIDDEN');
    expect(await ok(as('admin', 'POST', '/pools', { name: 'scraping', slots: 4, description: 'browsers' }), 201)).toMatchObject({ name: 'scraping', slots: 4, openSlots: 4 });
    expect(await error(as('admin', 'POST', '/pools', { name: 'scraping', slots: 4 }), 409)).toMatchObject({ code: 'ALREADY_EXISTS', field: 'name' });
    expect(await error(as('admin', 'POST', '/pools', { name: 'bad name!', slots: 4 }), 400)).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    expect(await error(as('admin', 'POST', '/pools', { name: 'neg', slots: -5 }), 400)).toMatchObject({ code: 'INVALID_INPUT', field: 'slots' });
    expect(await ok(as('admin', 'PATCH', '/pools/scraping', { slots: 8 }))).toMatchObject({ slots: 8, openSlots: 8 });
    expect(await error(as('admin', 'DELETE', '/pools/default_pool'), 409)).toMatchObject({ code: 'INVALID_STATE' });
    await ok(as('admin', 'DELETE', '/pools/scraping'), 204);
    expect((await error(as('viewer', 'GET', '/pools/scraping'), 404)).message).toBe("pool 'scraping' not found");
    const audit = await ok<{ entries: { action: string; object: string; actor: string }[] }>(as('viewer', 'GET', '/audit-log?actor=admin-user'));
    expect(audit.entries.filter((e) => e.object === 'pool:scraping').map((e) => e.action)).toEqual(['pool_delete', 'pool_update', 'pool_create']);
  });
});

describe('variables', () => {
  it('mask the values of secret-looking keys on read, keep them in the database, and never put values in the audit log', async () => {
    await ok(as('admin', 'POST', '/variables', { key: 'county_list', value: '["king","pierce"]' }), 201);
    await ok(as('admin', 'POST', '/variables', { key: 'sendgrid_api_key', value: 'SG.secret', description: 'mail' }), 201);
    expect(await error(as('admin', 'POST', '/variables', { key: 'county_list', value: 'x' }), 409)).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await error(as('operator', 'PUT', '/variables/county_list', { value: 'x' }), 403)).toMatchObject({ code: 'FORBIDDEN' });
    const list = await ok<{ variables: { key: string; value: string; masked: boolean }[] }>(as('viewer', 'GET', '/variables'));
    expect(list.variables.map((v) => [v.key, v.value, v.masked])).toEqual([
      ['county_list', '["king","pierce"]', false],
      ['sendgrid_api_key', '***', true],
    ]);
    expect((await getVariable(setup.engine.db, 'sendgrid_api_key', { reveal: true })).value).toBe('SG.secret');
    expect(await ok(as('admin', 'PUT', '/variables/county_list', { value: '[]' }))).toMatchObject({ value: '[]' });
    expect(await ok(as('admin', 'PUT', '/variables/new_one', { value: '1' }), 201)).toMatchObject({ key: 'new_one' });
    await ok(as('admin', 'DELETE', '/variables/new_one'), 204);
    expect(await error(as('admin', 'DELETE', '/variables/new_one'), 404)).toMatchObject({ field: 'key' });
    const audit = await setup.engine.db.selectFrom('tributary.audit_log').select('details').where('object', 'like', 'variable:%').execute();
    expect(JSON.stringify(audit)).not.toContain('SG.secret');
  });
});

describe('connections', () => {
  it('mask passwords and secret extras on read and keep the password when it is sent back masked', async () => {
    const created = await ok(
      as('admin', 'POST', '/connections', { connId: 'warehouse', connType: 'postgres', host: 'db.internal', port: 5432, login: 'etl', password: 'hunter2', extra: { sslmode: 'require', api_token: 't0k' } }),
      201,
    );
    expect(created).toMatchObject({ connId: 'warehouse', password: '***', extra: { sslmode: 'require', api_token: '***' } });
    expect(await error(as('admin', 'POST', '/connections', { connId: 'x', connType: 'http', port: 70000 }), 400)).toMatchObject({ field: 'port' });
    expect(await error(as('operator', 'POST', '/connections', { connId: 'y', connType: 'http' }), 403)).toMatchObject({ code: 'FORBIDDEN' });
    const read = await ok<{ password: string; extra: Record<string, unknown> }>(as('viewer', 'GET', '/connections/warehouse'));
    expect(read.password).toBe('***');
    // Edit form round trip: masked values sent back unchanged keep the stored secrets.
    await ok(as('admin', 'PATCH', '/connections/warehouse', { host: 'db2.internal', password: '***', extra: read.extra }));
    const stored = await getConnection(setup.engine.db, 'warehouse', { reveal: true });
    expect(stored).toMatchObject({ host: 'db2.internal', password: 'hunter2', extra: { sslmode: 'require', api_token: 't0k' } });
    await ok(as('admin', 'PATCH', '/connections/warehouse', { password: null }));
    expect(await ok(as('viewer', 'GET', '/connections'))).toMatchObject({ connections: [{ connId: 'warehouse', password: null }] });
    await ok(as('admin', 'DELETE', '/connections/warehouse'), 204);
    const audit = await setup.engine.db.selectFrom('tributary.audit_log').select('details').where('object', '=', 'connection:warehouse').execute();
    expect(audit).toHaveLength(4);
    expect(JSON.stringify(audit)).not.toMatch(/hunter2|t0k/);
  });
});

describe('users and tokens', () => {
  it('lets admins manage users; others get 403; an admin cannot lock themselves out', async () => {
    expect((await error(as('operator', 'GET', '/users'), 403)).code).toBe('FORBIDDEN');
    expect(await ok(as('admin', 'POST', '/users', { username: 'ana', role: 'viewer', password: 'long-enough-1' }), 201)).toMatchObject({ username: 'ana', role: 'viewer' });
    expect(await error(as('admin', 'POST', '/users', { username: 'bo', role: 'viewer', password: 'short' }), 400)).toMatchObject({ field: 'password' });
    expect(await error(as('admin', 'POST', '/users', { username: 'bo', role: 'root', password: 'long-enough-1' }), 400)).toMatchObject({ field: 'role' });
    expect(await error(as('admin', 'POST', '/users', { username: 'ana', role: 'viewer', password: 'long-enough-1' }), 409)).toMatchObject({ field: 'username' });
    const client = new WebClient(app);
    expect((await client.login('ana', 'long-enough-1')).status).toBe(303);
    expect(await ok(as('admin', 'PATCH', '/users/ana', { role: 'operator' }))).toMatchObject({ role: 'operator' });
    expect(await ok(client.request('/api/v1/me'))).toMatchObject({ role: 'operator' });
    await ok(as('admin', 'PATCH', '/users/ana', { disabled: true }));
    expect((await client.request('/api/v1/me')).status).toBe(401);
    expect((await client.login('ana', 'long-enough-1')).status).toBe(401);
    expect(await error(as('admin', 'PATCH', '/users/admin-user', { role: 'viewer' }), 409)).toMatchObject({ field: 'role' });
    expect(await error(as('admin', 'DELETE', '/users/admin-user'), 409)).toMatchObject({ code: 'INVALID_STATE' });
    await ok(as('admin', 'DELETE', '/users/ana'), 204);
    const list = await ok<{ users: { username: string }[] }>(as('admin', 'GET', '/users'));
    expect(list.users.map((u) => u.username)).toEqual(['admin-user', 'operator-user', 'viewer-user']);
  });

  it('creates a token shown once, lists it by prefix, and a revoked token stops working', async () => {
    const client = new WebClient(app);
    await client.login(users.viewer.username, users.viewer.password);
    const created = await ok<{ id: number; token: string; prefix: string }>(client.json('POST', '/api/v1/tokens', { name: 'laptop' }), 201);
    expect(created.token).toMatch(/^trb_[\w-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const listed = await ok<{ tokens: Record<string, unknown>[] }>(bearer(app, created.token, 'GET', '/api/v1/tokens'));
    expect(listed.tokens.map((t) => t.name)).toEqual(['tests', 'laptop']);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect((await error(bearer(app, created.token, 'GET', '/api/v1/tokens?all=true'), 403)).field).toBe('all');
    expect((await error(bearer(app, created.token, 'POST', '/api/v1/tokens', { name: 'x', username: 'admin-user' }), 403)).field).toBe('username');
    // A viewer cannot revoke someone else's token.
    const adminTokens = await ok<{ tokens: { id: number; username: string }[] }>(as('admin', 'GET', '/tokens?all=true'));
    const adminsOwn = adminTokens.tokens.find((t) => t.username === 'admin-user')!;
    expect((await error(bearer(app, created.token, 'DELETE', `/api/v1/tokens/${adminsOwn.id}`), 404)).code).toBe('NOT_FOUND');
    await ok(client.json('DELETE', `/api/v1/tokens/${created.id}`), 204);
    expect((await bearer(app, created.token, 'GET', '/api/v1/me')).status).toBe(401);
  });
});

describe('import errors', () => {
  it('lists DAG files that failed to load', async () => {
    await setup.engine.db.insertInto('tributary.import_error').values({ file: 'dags/broken.ts', message: 'SyntaxError: <b>oops</b>', occurred_at: new Date() }).execute();
    expect(await ok(as('viewer', 'GET', '/import-errors'))).toMatchObject({ importErrors: [{ file: 'dags/broken.ts', message: 'SyntaxError: <b>oops</b>' }] });
  });
});

describe('paging', () => {
  it('pages pools, variables, connections, users, tokens and import errors with limit and offset, counting the total in SQL', async () => {
    for (const name of ['page_a', 'page_b', 'page_c']) await ok(as('admin', 'POST', '/pools', { name, slots: 1 }), 201);
    expect(await ok(as('viewer', 'GET', '/pools?limit=2&offset=1'))).toMatchObject({ total: 4, pools: [{ name: 'page_a' }, { name: 'page_b' }] });
    for (const key of ['v1', 'v2', 'v3']) await ok(as('admin', 'POST', '/variables', { key, value: key }), 201);
    const variables = await ok<{ variables: { key: string }[]; total: number }>(as('viewer', 'GET', '/variables?limit=1&offset=2'));
    expect(variables.total).toBeGreaterThanOrEqual(3);
    expect(variables.variables).toHaveLength(1);
    for (const connId of ['c1', 'c2']) await ok(as('admin', 'POST', '/connections', { connId, connType: 'http' }), 201);
    expect(await ok(as('viewer', 'GET', '/connections?limit=1'))).toMatchObject({ total: 2, connections: [{ connId: 'c1' }] });
    expect(await ok(as('admin', 'GET', '/users?limit=1&offset=1'))).toMatchObject({ total: 3, users: [{ username: 'operator-user' }] });
    expect(await ok(as('admin', 'GET', '/tokens?all=true&limit=1'))).toMatchObject({ total: expect.any(Number), tokens: [expect.objectContaining({ username: expect.any(String) })] });
    expect(await ok(as('viewer', 'GET', '/tokens'))).toMatchObject({ total: 1, tokens: [{ username: 'viewer-user' }] });
    expect(await ok(as('viewer', 'GET', '/import-errors?limit=1&offset=5'))).toMatchObject({ total: 1, importErrors: [] });
    expect(await error(as('viewer', 'GET', '/variables?offset=-1'), 400)).toMatchObject({ code: 'INVALID_INPUT', field: 'offset' });
    expect(await error(as('viewer', 'GET', '/connections?limit=1001'), 400)).toMatchObject({ field: 'limit' });
  });
});
