import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConnection } from '../src/service/connections.js';
import { getPool } from '../src/service/pools.js';
import { getVariable } from '../src/service/variables.js';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { setupEngine, type TestSetup } from './helpers.js';
import { signedInClients, WebClient } from './support/web-client.js';

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
const audit = (object: string) => db().selectFrom('tributary.audit_log').select(['action', 'actor', 'origin', 'details']).where('object', '=', object).orderBy('id').execute();
/** The HTML of one field of a form, from its `<div class="field…" data-field=…>` to the next field. */
const field = (html: string, name: string) => {
  const start = html.search(new RegExp(`<div class="field[^"]*" data-field="${name}">`));
  if (start < 0) throw new Error(`no field ${name}`);
  const next = html.indexOf('<div class="field', start + 10);
  return html.slice(start, next < 0 ? undefined : next);
};
/** Follow a redirect and return the page it leads to. */
const follow = async (client: WebClient, response: Response) => {
  expect(response.status, await response.clone().text()).toBe(303);
  return (await client.page(response.headers.get('location')!)).html;
};

describe('read-only for viewers and operators', () => {
  it('shows the lists without forms and answers the form pages and posts with 403 pages', async () => {
    for (const client of [viewer, operator]) {
      for (const list of ['/pools', '/variables', '/connections']) {
        const { status, html } = await client.page(list);
        expect(status).toBe(200);
        expect(html).toContain('Only admins can change');
        expect(html).not.toMatch(/\/(new|edit|delete)"/);
      }
      for (const path of ['/pools/new', '/pools/default_pool/edit', '/pools/default_pool/delete', '/variables/new', '/connections/new']) {
        const page = await client.page(path);
        expect(page.status, path).toBe(403);
        expect(page.html).toContain('this needs admin');
      }
      expect((await client.form('/pools/new', { name: 'sneaky', slots: '3' })).status).toBe(403);
      expect((await client.form('/variables/new', { key: 'sneaky', value: 'x' })).status).toBe(403);
      expect((await client.form('/connections/new', { connId: 'sneaky', connType: 'http' })).status).toBe(403);
    }
    expect(await db().selectFrom('tributary.audit_log').select('action').where('object', 'like', '%sneaky').execute()).toEqual([]);
    const anonymous = new WebClient(app);
    expect((await anonymous.request('/pools/new')).headers.get('location')).toBe('/login?next=%2Fpools%2Fnew');
  });
});

describe('pools', () => {
  it('creates, edits and deletes a pool from the forms, naming the field at fault, with audit entries', async () => {
    const list = await admin.page('/pools');
    expect(list.html).toContain('href="/pools/new"');
    expect(list.html).toContain('href="/pools/default_pool/edit"');
    expect(list.html).not.toContain('/pools/default_pool/delete');

    const badSlots = await admin.form('/pools/new', { name: 'scraping', slots: 'many' });
    expect(badSlots.status).toBe(400);
    const badSlotsHtml = await badSlots.text();
    expect(field(badSlotsHtml, 'slots')).toMatch(/<div class="field invalid" data-field="slots">.*slots: expected a whole number ≥ 0, or -1 for unlimited, got &#39;many&#39;/s);
    expect(field(badSlotsHtml, 'name')).toContain('value="scraping"');
    expect((await admin.form('/pools/new', { name: 'bad name!', slots: '2' })).status).toBe(400);
    expect(field(await (await admin.form('/pools/new', { name: 'bad name!', slots: '2' })).text(), 'name')).toContain('class="field invalid"');
    expect(field(await (await admin.form('/pools/new', { name: 'neg', slots: '-5' })).text(), 'slots')).toContain('or -1 for unlimited, got -5');

    const created = await follow(admin, await admin.form('/pools/new', { name: 'scraping', slots: '4', description: '<script>alert("pool")</script>' }));
    expect(created).toContain('Created pool scraping with 4 slots.');
    expect(created).toContain('&lt;script&gt;alert(&quot;pool&quot;)&lt;/script&gt;');
    expect(created).not.toContain('<script>alert("pool")');
    const duplicate = await admin.form('/pools/new', { name: 'scraping', slots: '4' });
    expect(duplicate.status).toBe(409);
    expect(field(await duplicate.text(), 'name')).toContain('pool &#39;scraping&#39; already exists');

    const edit = await admin.page('/pools/scraping/edit');
    expect(edit.html).toContain('value="4"');
    expect(edit.html).toContain('value="&lt;script&gt;alert(&quot;pool&quot;)&lt;/script&gt;"');
    expect(await follow(admin, await admin.form('/pools/scraping/edit', { slots: '-1', description: 'browsers' }))).toContain('Saved pool scraping: unlimited slots.');
    expect(await getPool(db(), 'scraping')).toMatchObject({ slots: -1, description: 'browsers' });

    const confirm = await admin.page('/pools/scraping/delete', dialog);
    expect(confirm.html).toMatch(/^<div class="confirm"><h2 id="dialog-title">Delete pool scraping<\/h2>/);
    expect(confirm.html).toContain('name="_csrf"');
    expect(await follow(admin, await admin.form('/pools/scraping/delete'))).toContain('Deleted pool scraping.');
    expect(await follow(admin, await admin.form('/pools/default_pool/delete'))).toMatch(/<p class="notice error" role="alert">&#39;default_pool&#39; cannot be deleted/);
    expect((await admin.page('/pools/nope/edit')).status).toBe(404);

    expect((await audit('pool:scraping')).map((e) => [e.action, e.actor, e.origin])).toEqual([
      ['pool_create', 'admin-user', 'local'],
      ['pool_update', 'admin-user', 'local'],
      ['pool_delete', 'admin-user', 'local'],
    ]);
  });

  it('rejects a form posted without the CSRF token and changes nothing', async () => {
    const response = await admin.form('/pools/new', { name: 'forged', slots: '1' }, { csrf: false });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('CSRF_FAILED');
    expect((await admin.form('/pools/default_pool/edit', { slots: '1' }, { csrf: false })).status).toBe(403);
    expect((await admin.form('/pools/default_pool/delete', {}, { csrf: false })).status).toBe(403);
    expect(await audit('pool:forged')).toEqual([]);
    expect((await getPool(db(), 'default_pool')).slots).toBe(128);
  });
});

describe('variables', () => {
  it('creates and edits variables; user text is escaped in the list and in the form', async () => {
    const xss = '<script>alert("var")</script>';
    expect(await follow(admin, await admin.form('/variables/new', { key: 'banner', value: xss, description: '<b>shown</b>' }))).toContain('Created variable banner.');
    const list = await viewer.page('/variables');
    expect(list.html).toContain('<pre class="inline-value">&lt;script&gt;alert(&quot;var&quot;)&lt;/script&gt;</pre>');
    expect(list.html).toContain('&lt;b&gt;shown&lt;/b&gt;');
    expect(list.html).not.toContain(xss);
    const edit = await admin.page('/variables/banner/edit');
    expect(field(edit.html, 'value')).toContain('&lt;script&gt;alert(&quot;var&quot;)&lt;/script&gt;</textarea>');
    expect(edit.html).not.toContain(xss);

    // Values are kept as typed (leading spaces and newlines included).
    await follow(admin, await admin.form('/variables/banner/edit', { value: '  two\nlines ', description: '' }));
    expect(await getVariable(db(), 'banner')).toMatchObject({ value: '  two\nlines ', description: null });

    const badKey = await admin.form('/variables/new', { key: 'bad key', value: 'x' });
    expect(badKey.status).toBe(400);
    expect(field(await badKey.text(), 'key')).toMatch(/class="field invalid".*key: expected 1-250 letters/s);
    const duplicate = await admin.form('/variables/new', { key: 'banner', value: 'x' });
    expect(duplicate.status).toBe(409);
    expect(field(await duplicate.text(), 'key')).toContain('already exists');
  });

  it('never puts a secret-looking value into the page; an empty value on edit keeps it', async () => {
    await follow(admin, await admin.form('/variables/new', { key: 'team/db_password', value: 'hunter2' }));
    expect((await viewer.page('/variables')).html).not.toContain('hunter2');
    const edit = await admin.page('/variables/team%2Fdb_password/edit');
    expect(edit.status).toBe(200);
    expect(edit.html).not.toContain('hunter2');
    expect(field(edit.html, 'value')).toContain('Leave this empty to keep it.');
    expect(await follow(admin, await admin.form('/variables/team%2Fdb_password/edit', { value: '', description: 'the warehouse' }))).toContain('Saved variable team/db_password (value kept).');
    expect(await getVariable(db(), 'team/db_password', { reveal: true })).toMatchObject({ value: 'hunter2', description: 'the warehouse' });
    await follow(admin, await admin.form('/variables/team%2Fdb_password/edit', { value: 'correct horse', description: 'the warehouse' }));
    expect((await getVariable(db(), 'team/db_password', { reveal: true })).value).toBe('correct horse');

    expect((await admin.page('/variables/team%2Fdb_password/delete', dialog)).html).toContain('Delete variable team/db_password');
    expect(await follow(admin, await admin.form('/variables/team%2Fdb_password/delete'))).toContain('Deleted variable team/db_password.');
    const entries = await audit('variable:team/db_password');
    expect(entries.map((e) => e.action)).toEqual(['variable_create', 'variable_update', 'variable_update', 'variable_delete']);
    expect(JSON.stringify(entries)).not.toMatch(/hunter2|correct horse/);
    expect((await admin.page('/variables/team%2Fdb_password/edit')).status).toBe(404);
  });
});

describe('connections', () => {
  it('creates a connection; the edit form never shows its password or secret extras, and saving it unchanged keeps them', async () => {
    const created = await admin.form('/connections/new', {
      connId: 'warehouse', connType: 'postgres', host: 'db.internal', port: '5432', login: 'etl', password: 'hunter2', description: '<i>main</i>',
      extra: '{"sslmode": "require", "api_token": "t0k"}',
    });
    expect(await follow(admin, created)).toContain('Created connection warehouse.');
    const list = await viewer.page('/connections');
    expect(list.html).not.toMatch(/hunter2|t0k/);
    expect(list.html).toContain('&lt;i&gt;main&lt;/i&gt;');

    const edit = await admin.page('/connections/warehouse/edit');
    expect(edit.html).not.toMatch(/hunter2|t0k/);
    expect(field(edit.html, 'password')).toContain('<input type="password" id="c-password" name="password" value="" autocomplete="new-password"/>');
    expect(field(edit.html, 'password')).toContain('A password is stored; it is never shown.');
    const extra = /<textarea id="c-extra" name="extra"[^>]*>([^<]*)<\/textarea>/.exec(edit.html)![1]!.replaceAll('&quot;', '"');
    expect(JSON.parse(extra)).toEqual({ sslmode: 'require', api_token: '***' });
    // The browser sends the form back as shown, with a new host.
    const saved = await admin.form('/connections/warehouse/edit', { connType: 'postgres', host: 'db2.internal', port: '5432', schema: '', login: 'etl', password: '', description: '', extra });
    expect(await follow(admin, saved)).toContain('Saved connection warehouse (password kept).');
    expect(await getConnection(db(), 'warehouse', { reveal: true })).toMatchObject({ host: 'db2.internal', password: 'hunter2', extra: { sslmode: 'require', api_token: 't0k' }, description: null });

    const badPort = await admin.form('/connections/warehouse/edit', { connType: 'postgres', port: 'http', extra: '' });
    expect(badPort.status).toBe(400);
    const badPortHtml = await badPort.text();
    expect(field(badPortHtml, 'port')).toMatch(/class="field invalid".*port: expected a port number 1-65535, got &#39;http&#39;/s);
    expect(badPortHtml).not.toContain('hunter2');
    expect(field(await (await admin.form('/connections/warehouse/edit', { connType: 'postgres', port: '70000' })).text(), 'port')).toContain('class="field invalid"');
    expect(field(await (await admin.form('/connections/warehouse/edit', { connType: 'postgres', extra: '[1]' })).text(), 'extra')).toContain('expected a JSON object');
    expect(field(await (await admin.form('/connections/warehouse/edit', { connType: 'postgres', extra: '{oops' })).text(), 'extra')).toContain('not valid JSON');
    expect(field(await (await admin.form('/connections/new', { connId: 'x', connType: '' })).text(), 'connType')).toContain('give the connection type');
    const typed = await (await admin.form('/connections/new', { connId: 'warehouse', connType: 'http', password: 'typed-secret' })).text();
    expect(field(typed, 'connId')).toContain('already exists');
    expect(typed).not.toContain('typed-secret');

    await follow(admin, await admin.form('/connections/warehouse/edit', { connType: 'postgres', host: 'db2.internal', removePassword: '1', extra }));
    expect((await getConnection(db(), 'warehouse', { reveal: true })).password).toBeNull();
    expect(await follow(admin, await admin.form('/connections/warehouse/delete'))).toContain('Deleted connection warehouse.');
    const entries = await audit('connection:warehouse');
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ['connection_create', 'admin-user'],
      ['connection_update', 'admin-user'],
      ['connection_update', 'admin-user'],
      ['connection_delete', 'admin-user'],
    ]);
    expect(JSON.stringify(entries)).not.toMatch(/hunter2|t0k/);
  });
});
