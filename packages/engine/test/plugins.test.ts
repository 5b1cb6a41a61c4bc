import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import guestbook from '../examples/plugin/guestbook-plugin.js';
import { definePlugin } from '../src/plugin/plugin.js';
import { pluginRoutesHandler, runPluginHealthChecks } from '../src/plugin/http.js';
import { migratePlugin, PluginMigrationError } from '../src/plugin/migrate.js';
import { listTaskInstances } from '../src/service/runs.js';
import { connectDatabase } from '../src/db/connect.js';
import { createWebApp } from '../src/web/index.js';
import { openTestEngine, runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

const EXAMPLES = join(PACKAGE_DIR, 'examples');

describe('the example plugin from docs/plugins.md', () => {
  let setup: TestSetup;
  beforeAll(async () => {
    setup = await setupEngine({ dagsFolders: [EXAMPLES], plugins: [guestbook] });
  });
  afterAll(() => setup?.close());

  it('has its migrations applied in its own schema when the engine opens, once', async () => {
    expect(setup.engine.pluginMigrationsApplied).toEqual({ guestbook: ['0001-entry'] });
    const tracked = await sql<{ name: string }>`SELECT name FROM guestbook.migration`.execute(setup.engine.db);
    expect(tracked.rows.map((r) => r.name)).toEqual(['0001-entry']);
    const again = await openTestEngine({ databaseUrl: setup.database.url, projectDir: PACKAGE_DIR, plugins: [guestbook] });
    try {
      expect(again.pluginMigrationsApplied).toEqual({});
    } finally {
      await again.close();
    }
  });

  it('runs example_plugin: the worker resolves guestbook.sign by name and it writes to the plugin table', async () => {
    const result = await runDagToCompletion(setup.engine, 'example_plugin');
    expect(result.state).toBe('success');
    const rows = await sql<{ name: string; message: string; run_id: string }>`SELECT name, message, run_id FROM guestbook.entry`.execute(setup.engine.db);
    expect(rows.rows).toContainEqual({ name: 'Ada', message: 'first!', run_id: result.run.run_id });
    const report = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', result.run.id).where('task_id', '=', 'report').executeTakeFirstOrThrow();
    expect(report.value).toMatch(/^entry \d+ of \d+$/);
  });

  it('serves its routes under /plugins/guestbook/ and reports its health checks', async () => {
    const handler = pluginRoutesHandler(setup.engine.plugins);
    const entries = await handler(new Request('http://localhost/plugins/guestbook/entries'));
    expect(entries.status).toBe(200);
    expect(await entries.json()).toContainEqual({ name: 'Ada', message: 'first!' });
    const missing = await handler(new Request('http://localhost/plugins/nope/x'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ plugins: ['/plugins/guestbook/'] });
    const health = await runPluginHealthChecks(setup.engine.plugins);
    expect(health).toEqual([expect.objectContaining({ check: 'guestbook.table', ok: true })]);
  });

  it('is mounted by the web app: routes without sign-in, health checks in /healthz', async () => {
    const app = createWebApp(setup.engine);
    const entries = await app.request('/plugins/guestbook/entries');
    expect(entries.status).toBe(200);
    expect(await entries.json()).toContainEqual({ name: 'Ada', message: 'first!' });
    const health = (await (await app.request('/healthz')).json()) as { plugins: unknown[] };
    expect(health.plugins).toEqual([expect.objectContaining({ check: 'guestbook.table', ok: true })]);
  });
});

describe('plugin loading, argument checks and health checks', () => {
  let setup: TestSetup;
  let folder: ReturnType<typeof tempDagFolder>;
  beforeAll(async () => {
    folder = tempDagFolder({
      'by-path.ts': `
import { dag } from '@tributary/engine';
const d = dag({ id: 'by_path' });
// A spec as an operator factory writes it, naming the module that exports the plugin.
d.task('sign', { operator: 'guestbook.sign', plugin: './examples/plugin/guestbook-plugin.ts', args: { name: 'Grace' } });
d.task('bad_args', { operator: 'guestbook.sign', plugin: './examples/plugin/guestbook-plugin.ts', args: { name: '', colour: 'red' } });
d.task('unknown', { operator: 'guestbook.erase', plugin: './examples/plugin/guestbook-plugin.ts', args: {} });
export default d;
`,
    });
    // No plugins registered up front: the worker imports the plugin on first use.
    setup = await setupEngine({ dagsFolders: [folder.dir] });
  });
  afterAll(async () => {
    await setup?.close();
    folder?.remove();
  });

  it('imports a plugin named by a task spec, migrates it before its first operator runs, and checks arguments on the worker', async () => {
    expect(setup.engine.pluginMigrationsApplied).toEqual({});
    const result = await runDagToCompletion(setup.engine, 'by_path');
    const tasks = Object.fromEntries((await listTaskInstances(setup.engine.db, result.run.id)).map((t) => [t.taskId, t]));
    expect(tasks.sign!.state).toBe('success');
    const rows = await sql<{ name: string }>`SELECT name FROM guestbook.entry`.execute(setup.engine.db);
    expect(rows.rows).toEqual([{ name: 'Grace' }]);
    const errors = await setup.engine.db
      .selectFrom('tributary.task_try as tt')
      .innerJoin('tributary.task_instance as t', 't.id', 'tt.ti_id')
      .select(['t.task_id', sql<string>`tt.error->>'message'`.as('message')])
      .where('t.run_pk', '=', result.run.id)
      .where('tt.state', '=', 'failed')
      .execute();
    const message = (task: string): string | undefined => errors.find((e) => e.task_id === task)?.message;
    expect(tasks.bad_args!.state).toBe('failed');
    expect(message('bad_args')).toMatch(/^sign\(\): invalid arguments: 'name': Too small.*; unknown option colour$/);
    expect(message('unknown')).toBe("operator 'guestbook.erase': plugin 'guestbook' has no operator 'erase' (it has: sign)");
  });

  it('counts a throwing or hanging health check as failed, naming it', async () => {
    setup.engine.plugins.register(
      definePlugin({
        name: 'flaky',
        version: '0.0.1',
        operators: {},
        healthChecks: { throws: () => Promise.reject(new Error('API key expired')), hangs: () => new Promise(() => {}), fine: () => ({ ok: true }) },
      }),
    );
    const health = await runPluginHealthChecks(setup.engine.plugins, { timeoutMs: 200 });
    expect(health.filter((h) => h.check.startsWith('flaky.'))).toEqual([
      expect.objectContaining({ check: 'flaky.throws', ok: false, detail: 'API key expired' }),
      expect.objectContaining({ check: 'flaky.hangs', ok: false, detail: 'no answer within 200 ms' }),
      expect.objectContaining({ check: 'flaky.fine', ok: true }),
    ]);
  });
});

describe('migratePlugin', () => {
  let setup: TestSetup;
  beforeAll(async () => {
    setup = await setupEngine();
  });
  afterAll(() => setup?.close());

  const step = (statement: string) => ({ up: async (db: Kysely<unknown>): Promise<void> => void (await sql.raw(statement).execute(db)) });

  it('applies migrations in name order, later ones on a later start, and reports a failing one by name', async () => {
    const database = connectDatabase(setup.database.url, { max: 2 });
    try {
      const v1 = definePlugin({ name: 'ordered', version: '1', operators: {}, schema: 'ordered', migrations: { '0002-b': step('ALTER TABLE ordered.t ADD COLUMN b int'), '0001-a': step('CREATE TABLE ordered.t (a int)') } });
      expect(await migratePlugin(database, v1)).toEqual(['0001-a', '0002-b']);
      expect(await migratePlugin(database, v1)).toEqual([]);
      const v2 = definePlugin({ ...v1, version: '2', migrations: { ...v1.migrations, '0003-c': step('ALTER TABLE ordered.t ADD COLUMN c int') } });
      expect(await migratePlugin(database, v2)).toEqual(['0003-c']);
      const broken = definePlugin({ ...v2, version: '3', migrations: { ...v2.migrations, '0004-bad': step('ALTER TABLE ordered.nope ADD COLUMN d int') } });
      const error = await migratePlugin(database, broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PluginMigrationError);
      expect((error as Error).message).toBe(`plugin 'ordered': migration '0004-bad' failed: relation "ordered.nope" does not exist`);
      const columns = await sql<{ column_name: string }>`SELECT column_name FROM information_schema.columns WHERE table_schema = 'ordered' AND table_name = 't' ORDER BY ordinal_position`.execute(database.db);
      expect(columns.rows.map((c) => c.column_name)).toEqual(['a', 'b', 'c']);
    } finally {
      await database.close();
    }
  });
});
