import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUser } from '../src/service/users.js';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { setupEngine, type TestSetup } from './helpers.js';
import { bearer, signedInClients, WebClient } from './support/web-client.js';

let setup: TestSetup;
let app: Hono<WebEnv>;
let viewer: WebClient;
let operator: WebClient;
let admin: WebClient;
beforeAll(async () => {
  setup = await setupEngine();
  app = createWebApp(setup.engine);
  ({ viewer, operator, admin } = await signedInClients(app, setup.engine));
});
afterAll(() => setup?.close());

const db = () => setup.engine.db;
const dialog = { 'hx-request': 'true', 'hx-target': 'div#dialog-body' };
/** Audit entries of changes to an object (sign-ins, which name the user too, left out). */
const audit = (object: string) =>
  db().selectFrom('tributary.audit_log').select(['action', 'actor', 'details']).where('object', '=', object).where('action', 'not in', ['login', 'login_failed', 'logout']).orderBy('id').execute();
/** The secret a "shown once" page shows. */
const shownSecret = (html: string) => /<input type="text" id="secret-value" class="mono" readonly="" value="([^"]+)"/.exec(html)?.[1];
const follow = async (client: WebClient, response: Response) => {
  expect(response.status, await response.clone().text()).toBe(303);
  return (await client.page(response.headers.get('location')!)).html;
};
const canSignIn = async (username: string, password: string) => (await new WebClient(app).login(username, password)).status === 303;

describe('users page access', () => {
  it('is for admins only: others get 403 pages and no Users link, and cannot post its forms', async () => {
    for (const client of [viewer, operator]) {
      const page = await client.page('/users');
      expect(page.status).toBe(403);
      expect(page.html).toContain('this needs admin');
      expect((await client.page('/')).html).not.toContain('href="/users"');
      expect((await client.page('/users/viewer-user')).status).toBe(403);
      expect((await client.form('/users/new', { username: 'sneaky', role: 'admin', password: 'long-enough-1' })).status).toBe(403);
      expect((await client.form('/users/viewer-user/role', { role: 'admin' })).status).toBe(403);
      expect((await client.form('/users/viewer-user/password')).status).toBe(403);
    }
    expect((await getUser(db(), 'viewer-user')).role).toBe('viewer');
    expect(await audit('user:sneaky')).toEqual([]);
    const list = await admin.page('/users');
    expect(list.html).toContain('<a href="/users" class="active" aria-current="page">Users</a>');
    expect(list.html).toMatch(/<a href="\/users\/operator-user">operator-user<\/a><\/td><td>operator<\/td>/);
  });

  it('rejects its forms posted without the CSRF token', async () => {
    const response = await admin.form('/users/new', { username: 'forged', role: 'admin', password: 'long-enough-1' }, { csrf: false });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('CSRF_FAILED');
    expect((await admin.form('/users/viewer-user/delete', {}, { csrf: false })).status).toBe(403);
    expect((await admin.form('/users/viewer-user/password', {}, { csrf: false })).status).toBe(403);
    expect(await audit('user:forged')).toEqual([]);
    expect((await audit('user:viewer-user')).map((e) => e.actor)).toEqual(['test']);
  });
});

describe('managing users', () => {
  it('creates a user with a generated password shown once, naming the field of a bad input', async () => {
    const form = await admin.page('/users/new');
    expect(form.html).toContain('<option value="viewer" selected="">');
    const badRole = await admin.form('/users/new', { username: 'ana', role: 'root', password: '' });
    expect(badRole.status).toBe(400);
    expect(await badRole.text()).toMatch(/<div class="field invalid" data-field="role">.*role: expected one of viewer, operator, admin, got &#39;root&#39;/s);
    const short = await admin.form('/users/new', { username: 'ana', role: 'viewer', password: 'short' });
    expect(await short.text()).toMatch(/<div class="field invalid" data-field="password">.*password: must be at least 8 characters/s);
    const badName = await (await admin.form('/users/new', { username: '<script>x</script>', role: 'viewer' })).text();
    expect(badName).toMatch(/data-field="username">.*got &#39;&lt;script&gt;x&lt;\/script&gt;&#39;/s);
    expect(badName).not.toContain('<script>x</script>');

    const created = await admin.form('/users/new', { username: 'ana', role: 'operator', password: '' });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const html = await created.text();
    expect(html).toContain('Copy it now: it is shown this once');
    const password = shownSecret(html)!;
    expect(password).toMatch(/^\w{20}$/);
    expect(await canSignIn('ana', password)).toBe(true);
    expect((await getUser(db(), 'ana')).role).toBe('operator');
    // The user's page does not show it again.
    expect((await admin.page('/users/ana')).html).not.toContain(password);

    const duplicate = await admin.form('/users/new', { username: 'ana', role: 'viewer', password: 'long-enough-1' });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toMatch(/data-field="username">.*user &#39;ana&#39; already exists/s);
    const chosen = await admin.form('/users/new', { username: 'bo', role: 'viewer', password: 'long-enough-1' });
    expect(chosen.headers.get('location')).toBe('/users/bo');
    expect(await canSignIn('bo', 'long-enough-1')).toBe(true);
    expect(await audit('user:ana')).toEqual([expect.objectContaining({ action: 'user_create', actor: 'admin-user', details: { role: 'operator' } })]);
  });

  it('changes the role, disables and enables, and resets the password (shown once, sessions end)', async () => {
    const ana = new WebClient(app);
    const reset = await admin.form('/users/ana/password');
    const first = shownSecret(await reset.text())!;
    expect(await ana.login('ana', first)).toHaveProperty('status', 303);

    expect(await follow(admin, await admin.form('/users/ana/role', { role: 'viewer' }))).toContain('ana now has role viewer.');
    expect((await ana.request('/api/v1/me').then((r) => r.json())) as unknown).toMatchObject({ role: 'viewer' });
    expect(await follow(admin, await admin.form('/users/ana/role', { role: 'god' }))).toMatch(/<p class="notice error" role="alert">role: expected one of/);

    expect((await admin.page('/users/ana/disable', dialog)).html).toContain('Their sessions end at once');
    expect(await follow(admin, await admin.form('/users/ana/disable', { disabled: 'true' }))).toContain('Disabled ana: their sessions ended.');
    expect((await ana.request('/api/v1/me')).status).toBe(401);
    expect(await canSignIn('ana', first)).toBe(false);
    const disabledPage = (await admin.page('/users/ana')).html;
    expect(disabledPage).toContain('<span class="pill warn-pill">disabled</span>');
    expect(disabledPage).toContain('Enable…');
    expect(await follow(admin, await admin.form('/users/ana/disable', { disabled: 'false' }))).toContain('Enabled ana.');
    expect(await canSignIn('ana', first)).toBe(true);

    expect((await admin.page('/users/ana/password', dialog)).html).toContain('A new password is generated and shown to you once');
    const again = await admin.form('/users/ana/password');
    expect(again.headers.get('cache-control')).toBe('no-store');
    const second = shownSecret(await again.text())!;
    expect(second).not.toBe(first);
    expect(await canSignIn('ana', first)).toBe(false);
    expect(await canSignIn('ana', second)).toBe(true);

    const entries = await audit('user:ana');
    expect(entries.map((e) => e.action)).toEqual(['user_create', 'user_update', 'user_update', 'user_update', 'user_update', 'user_update']);
    expect(JSON.stringify(entries)).not.toMatch(new RegExp(`${first}|${second}`));
    expect(entries.filter((e) => (e.details as { password?: string }).password === 'changed')).toHaveLength(2);
  });

  it('creates an API token shown once, and revokes it', async () => {
    const created = await admin.form('/users/bo/tokens', { name: '<b>ci</b>' });
    expect(created.headers.get('cache-control')).toBe('no-store');
    const html = await created.text();
    expect(html).toContain('Token “&lt;b&gt;ci&lt;/b&gt;”');
    const token = shownSecret(html)!;
    expect(token).toMatch(/^trb_[\w-]{43}$/);
    expect(await (await bearer(app, token, 'GET', '/api/v1/me')).json()).toMatchObject({ username: 'bo', authMethod: 'token' });
    const page = (await admin.page('/users/bo')).html;
    expect(page).not.toContain(token);
    expect(page).toContain('<td>&lt;b&gt;ci&lt;/b&gt;</td>');
    expect(await follow(admin, await admin.form('/users/bo/tokens', { name: ' ' }))).toContain('name: give the token a name');

    const id = /href="\/users\/bo\/tokens\/(\d+)\/revoke"/.exec(page)![1]!;
    expect((await admin.page(`/users/bo/tokens/${id}/revoke`, dialog)).html).toContain('Revoke token “&lt;b&gt;ci&lt;/b&gt;” of bo');
    // A token is revoked only through the user it belongs to.
    expect((await admin.form(`/users/ana/tokens/${id}/revoke`)).status).toBe(404);
    expect(await follow(admin, await admin.form(`/users/bo/tokens/${id}/revoke`))).toContain(`Revoked API token ${id} of bo.`);
    expect((await bearer(app, token, 'GET', '/api/v1/me')).status).toBe(401);
    expect((await audit(`token:${id}`)).map((e) => [e.action, e.actor])).toEqual([['token_create', 'admin-user'], ['token_revoke', 'admin-user']]);
  });

  it('deletes a user after confirming; an admin cannot demote, disable or delete themselves', async () => {
    const own = (await admin.page('/users/admin-user')).html;
    expect(own).not.toContain('/users/admin-user/delete');
    expect(own).not.toContain('/users/admin-user/disable');
    expect(await follow(admin, await admin.form('/users/admin-user/role', { role: 'viewer' }))).toContain('you cannot disable yourself or take away your own admin role');
    expect(await follow(admin, await admin.form('/users/admin-user/disable', { disabled: 'true' }))).toContain('you cannot disable yourself');
    expect(await follow(admin, await admin.form('/users/admin-user/delete'))).toContain('you cannot delete yourself');
    expect(await getUser(db(), 'admin-user')).toMatchObject({ role: 'admin', disabled: false });

    expect((await admin.page('/users/bo/delete', dialog)).html).toContain('Delete user bo');
    expect(await follow(admin, await admin.form('/users/bo/delete'))).toContain('Deleted user bo.');
    expect((await admin.page('/users/bo')).status).toBe(404);
    expect(await canSignIn('bo', 'long-enough-1')).toBe(false);
    expect((await audit('user:bo')).map((e) => [e.action, e.actor])).toEqual([['user_create', 'admin-user'], ['user_delete', 'admin-user']]);
  });
});
