import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { setupEngine, type TestSetup } from './helpers.js';
import { apiAs, expectError as error, expectJson as ok, WebClient } from './support/web-client.js';

// No scheduler runs here: a created backfill stays running with its intervals pending, so what the
// API reports is what the service planned and stored.
let setup: TestSetup;
let app: Hono<WebEnv>;
let users: Awaited<ReturnType<typeof apiAs>>['users'];
let as: Awaited<ReturnType<typeof apiAs>>['as'];
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  app = createWebApp(setup.engine);
  ({ users, as } = await apiAs(app, setup.engine));
});
afterAll(() => setup?.close());

interface Backfill {
  id: number;
  dagId: string;
  state: string;
  from: string;
  to: string;
  reprocess: string;
  maxActiveRuns: number;
  outcomes: Record<string, number>;
}
interface Creation {
  backfill: Backfill | null;
  plan: { logicalDate: string; dataIntervalEnd: string; action: string; existing: unknown }[];
  dagPaused: boolean;
}

const audit = (action: string) => setup.engine.db.selectFrom('tributary.audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
const backfillRows = () => setup.engine.db.selectFrom('tributary.backfill').selectAll().execute();

describe('POST /backfills', () => {
  it('returns the plan of a dry run (200) and stores nothing', async () => {
    const plan = await ok<Creation>(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-03', dryRun: true }));
    expect(plan.backfill).toBeNull();
    expect(plan.plan.map((p) => [p.logicalDate, p.dataIntervalEnd, p.action])).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', 'create'],
      ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z', 'create'],
      ['2024-01-03T00:00:00.000Z', '2024-01-04T00:00:00.000Z', 'create'],
    ]);
    expect(await backfillRows()).toHaveLength(0);
    expect(await audit('backfill_create')).toHaveLength(0);
  });

  it('validates like the CLI, naming the field, and creates nothing', async () => {
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-05', to: '2024-01-01' }), 400)).toMatchObject({ code: 'INVALID_INPUT', field: 'to' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: 'last tuesday', to: '2024-01-01' }), 400)).toMatchObject({ code: 'INVALID_INPUT', field: 'from' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02', reprocess: 'all' }), 400)).toMatchObject({ field: 'reprocess' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02', maxActiveRuns: 0 }), 400)).toMatchObject({ field: 'maxActiveRuns' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', to: '2024-01-02' }), 400)).toMatchObject({ field: 'from' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02', colour: 'red' }), 400)).toMatchObject({ code: 'INVALID_INPUT' });
    const params = await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02', params: { fail: 'yes' } }), 400);
    expect(params).toMatchObject({ code: 'PARAMS_INVALID', field: 'params.fail' });
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'nope', from: '2024-01-01', to: '2024-01-02' }), 404)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("DAG 'nope' not found") });
    expect(await backfillRows()).toHaveLength(0);
  });

  it('needs the operator role, and the CSRF header from a browser session', async () => {
    const body = { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02' };
    expect(await error(as('viewer', 'POST', '/backfills', body), 403)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('needs operator') });
    const browser = new WebClient(app);
    await browser.login(users.operator.username, users.operator.password);
    const noCsrf = await browser.request('/api/v1/backfills', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, dryRun: true }) });
    expect(await error(noCsrf, 403)).toMatchObject({ code: 'CSRF_FAILED' });
    expect(await ok<Creation>(browser.json('POST', '/api/v1/backfills', { ...body, dryRun: true }))).toMatchObject({ backfill: null });
    expect(await backfillRows()).toHaveLength(0);
  });
});

describe('backfills: create, list, get, cancel', () => {
  it('creates (201, audited), lists with filters and paging, gets one, and cancels it once', async () => {
    const created = await ok<Creation>(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-02-01', to: '2024-02-04', reprocess: 'failed', maxActiveRuns: 2 }), 201);
    expect(created.backfill).toMatchObject({ dagId: 'backfill_daily', state: 'running', reprocess: 'failed', maxActiveRuns: 2, from: '2024-02-01T00:00:00.000Z', to: '2024-02-04T00:00:00.000Z' });
    expect(created.backfill!.outcomes).toMatchObject({ pending: 4, created: 0 });
    expect(created.plan).toHaveLength(4);
    const id = created.backfill!.id;
    expect(await audit('backfill_create')).toEqual([expect.objectContaining({ actor: 'operator-user', origin: 'local', dag_id: 'backfill_daily', details: expect.objectContaining({ backfillId: id, intervals: 4 }) })]);
    // One running backfill per DAG.
    expect(await error(as('operator', 'POST', '/backfills', { dagId: 'backfill_daily', from: '2024-03-01', to: '2024-03-02' }), 409)).toMatchObject({ code: 'ALREADY_EXISTS' });

    // A second one, of another DAG and no longer running, to page and filter over.
    const other = await ok<Creation>(as('operator', 'POST', '/backfills', { dagId: 'backfill_hourly', from: '2024-01-01T00:00:00Z', to: '2024-01-01T01:00:00Z' }), 201);
    await ok(as('operator', 'POST', `/backfills/${other.backfill!.id}/cancel`));

    const all = await ok<{ backfills: Backfill[]; total: number }>(as('viewer', 'GET', '/backfills'));
    expect(all.total).toBe(2);
    expect(all.backfills.map((b) => b.dagId)).toEqual(['backfill_hourly', 'backfill_daily']);
    const page2 = await ok<{ backfills: Backfill[]; total: number }>(as('viewer', 'GET', '/backfills?limit=1&offset=1'));
    expect(page2).toMatchObject({ total: 2, backfills: [{ id }] });
    expect(await ok(as('viewer', 'GET', '/backfills?running=true'))).toMatchObject({ total: 1, backfills: [{ id, state: 'running' }] });
    expect(await ok(as('viewer', 'GET', '/backfills?dagId=backfill_hourly'))).toMatchObject({ total: 1, backfills: [{ dagId: 'backfill_hourly' }] });
    expect(await error(as('viewer', 'GET', '/backfills?limit=5000'), 400)).toMatchObject({ field: 'limit' });
    expect(await error(as('viewer', 'GET', '/backfills?running=maybe'), 400)).toMatchObject({ field: 'running' });

    expect(await ok(as('viewer', 'GET', `/backfills/${id}`))).toMatchObject({ id, state: 'running', outcomes: { pending: 4 } });
    expect(await error(as('viewer', 'GET', '/backfills/99999'), 404)).toMatchObject({ message: 'backfill 99999 not found' });
    expect(await error(as('viewer', 'GET', '/backfills/abc'), 400)).toMatchObject({ field: 'id' });

    expect(await error(as('viewer', 'POST', `/backfills/${id}/cancel`), 403)).toMatchObject({ code: 'FORBIDDEN' });
    const cancelled = await ok<Backfill>(as('operator', 'POST', `/backfills/${id}/cancel`));
    expect(cancelled).toMatchObject({ id, state: 'cancelled', outcomes: { pending: 0, cancelled: 4 } });
    expect(await error(as('operator', 'POST', `/backfills/${id}/cancel`), 409)).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('already cancelled') });
    expect(await audit('backfill_cancel')).toContainEqual(expect.objectContaining({ actor: 'operator-user', dag_id: 'backfill_daily', details: expect.objectContaining({ backfillId: id }) }));
  });
});
