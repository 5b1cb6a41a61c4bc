import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../src/service/runs.js';
import { getRunSummary } from '../src/service/run-queries.js';
import { createWebApp } from '../src/web/app.js';
import type { WebEnv } from '../src/web/types.js';
import { eventually, FIXTURE_DAGS, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';
import { apiAs, bearer, expectError as error, expectJson as ok, WebClient } from './support/web-client.js';

const extra = tempDagFolder({
  'tagged.ts': `import { dag } from '@tributary/engine';
const tagged = dag({ id: 'tagged_xss', description: '<script>alert(1)</script> scores deals', tags: ['scoring', 'daily'] });
tagged.task('only', () => 'ok');
export default tagged;
`,
});

let setup: TestSetup;
let app: Hono<WebEnv>;
let users: Awaited<ReturnType<typeof apiAs>>['users'];
let as: Awaited<ReturnType<typeof apiAs>>['as'];
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [FIXTURE_DAGS, extra.dir] });
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
  app = createWebApp(setup.engine);
  ({ users, as } = await apiAs(app, setup.engine));
});
afterAll(async () => {
  await setup?.close();
  extra.remove();
});

const untilFinished = async (dagId: string, runId: string) => waitForRun(setup.engine.db, (await getRunSummary(setup.engine.db, dagId, runId)).pk, { timeoutMs: 30_000 });

describe('DAGs', () => {
  it('lists DAGs with search, tags, paused filter and a total; descriptions come back as plain JSON strings', async () => {
    const all = await ok<{ dags: { dagId: string }[]; total: number }>(as('viewer', 'GET', '/dags?limit=3'));
    expect(all.dags).toHaveLength(3);
    expect(all.total).toBeGreaterThan(5);
    const found = await ok<{ dags: { dagId: string; description: string; tags: string[] }[]; total: number }>(as('viewer', 'GET', '/dags?tags=scoring,daily'));
    expect(found).toMatchObject({ total: 1, dags: [{ dagId: 'tagged_xss', description: '<script>alert(1)</script> scores deals' }] });
    expect((await ok<{ total: number }>(as('viewer', 'GET', '/dags?search=SCORES'))).total).toBe(1);
    const paused = await ok<{ dags: { isPaused: boolean }[] }>(as('viewer', 'GET', '/dags?paused=true'));
    expect(paused.dags.every((d) => d.isPaused)).toBe(true);
    const running = await ok<{ dags: { isPaused: boolean }[]; total: number }>(as('viewer', 'GET', '/dags?paused=false&limit=1000'));
    expect(running.dags.some((d) => d.isPaused)).toBe(false);
    expect(running.total + paused.dags.length).toBe(all.total);
    const response = await as('viewer', 'GET', '/dags?search=tagged');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('gets one DAG with its definition, code and versions; an unknown DAG is a JSON 404 naming it', async () => {
    const dag = await ok<{ dagId: string; definition: { tasks: { taskId: string }[] } }>(as('viewer', 'GET', '/dags/diamond'));
    expect(dag.definition.tasks.map((t) => t.taskId)).toEqual(['a', 'b', 'c', 'd']);
    const code = await ok<{ source: string; versionNumber: number }>(as('viewer', 'GET', '/dags/diamond/code'));
    expect(code.source).toContain("dag({ id: 'diamond' })");
    expect(await ok(as('viewer', 'GET', '/dags/diamond/versions'))).toMatchObject({ versions: [{ versionNumber: 1, taskCount: 4 }] });
    const missing = await as('viewer', 'GET', '/dags/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: "DAG 'nope' not found" } });
  });

  it('lets operators pause and unpause, not viewers, with an audit entry naming who and from where', async () => {
    const denied = await as('viewer', 'PATCH', '/dags/slow', { isPaused: true });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining('needs operator') } });
    expect(await ok(as('operator', 'PATCH', '/dags/slow', { isPaused: true }))).toMatchObject({ dagId: 'slow', isPaused: true });
    expect(await ok(as('operator', 'PATCH', '/dags/slow', { isPaused: false }))).toMatchObject({ isPaused: false });
    const audit = await ok<{ entries: { action: string; actor: string; origin: string; dagId: string }[] }>(as('viewer', 'GET', '/audit-log?dagId=slow'));
    expect(audit.entries.map((e) => [e.action, e.actor, e.origin])).toEqual([['unpause', 'operator-user', 'local'], ['pause', 'operator-user', 'local']]);
  });

  it('rejects invalid params naming the field and creates nothing; valid params make a run', async () => {
    const bad = await as('operator', 'POST', '/dags/with_params/runs', { params: { county: 42 } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'PARAMS_INVALID', field: 'params.county', message: expect.stringContaining('county must be string') } });
    const missing = await as('operator', 'POST', '/dags/with_params/runs', { params: {} });
    expect(await missing.json()).toMatchObject({ error: { code: 'PARAMS_INVALID', field: 'params.county', message: expect.stringContaining('county') } });
    expect((await ok<{ total: number }>(as('viewer', 'GET', '/dags/with_params/runs'))).total).toBe(0);
    const unknownField = await as('operator', 'POST', '/dags/with_params/runs', { parms: {} });
    expect(await unknownField.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });

    const run = await ok<{ runId: string; state: string; conf: Record<string, unknown>; triggeredBy: string }>(
      as('operator', 'POST', '/dags/with_params/runs', { params: { county: 'king' }, runId: 'api_run_1' }),
      201,
    );
    expect(run).toMatchObject({ runId: 'api_run_1', conf: { county: 'king', limit: 25 }, triggeredBy: 'operator-user' });
    expect(await untilFinished('with_params', 'api_run_1')).toBe('success');
    const again = await as('operator', 'POST', '/dags/with_params/runs', { params: { county: 'king' }, runId: 'api_run_1' });
    expect(again.status).toBe(409);
    expect(await ok(as('viewer', 'GET', '/dags/with_params/runs/api_run_1'))).toMatchObject({ state: 'success', versionNumber: 1 });
    expect(await ok(as('viewer', 'GET', '/runs?dagId=with_params&state=success'))).toMatchObject({ total: 1 });
    const xcom = await ok<{ entries: { key: string; value: unknown }[] }>(as('viewer', 'GET', '/dags/with_params/runs/api_run_1/tasks/echo/xcom'));
    expect(xcom.entries).toEqual([expect.objectContaining({ key: 'return_value', value: expect.objectContaining({ county: 'king', limit: 25 }) })]);
    const audit = await ok<{ entries: { action: string; runId: string }[] }>(as('viewer', 'GET', '/audit-log?action=trigger'));
    expect(audit.entries).toContainEqual(expect.objectContaining({ runId: 'api_run_1' }));
  });
});

describe('runs and task instances', () => {
  it('shows task instances, tries and logs (paged with after), clears with downstream and the run then succeeds', async () => {
    await ok(as('operator', 'POST', '/dags/recoverable/runs', { runId: 'rec_1' }), 201);
    expect(await untilFinished('recoverable', 'rec_1')).toBe('failed');
    const tis = await ok<{ taskInstances: { taskId: string; state: string }[] }>(as('viewer', 'GET', '/dags/recoverable/runs/rec_1/tasks'));
    expect(tis.taskInstances.map((t) => [t.taskId, t.state])).toEqual([['first', 'success'], ['fragile', 'failed'], ['last', 'upstream_failed']]);
    const detail = await ok(as('viewer', 'GET', '/dags/recoverable/runs/rec_1/tasks/fragile'));
    expect(detail).toMatchObject({ taskId: 'fragile', state: 'failed', tryNumber: 1, pool: 'default_pool' });
    const tries = await ok<{ tries: { tryNumber: number; state: string; error: { message: string } }[] }>(as('viewer', 'GET', '/dags/recoverable/runs/rec_1/tasks/fragile/tries'));
    expect(tries.tries).toEqual([expect.objectContaining({ tryNumber: 1, state: 'failed', error: expect.objectContaining({ message: 'fails the first time' }) })]);
    const page1 = await ok<{ lines: { id: number; message: string }[]; next: number }>(as('viewer', 'GET', '/dags/recoverable/runs/rec_1/tasks/fragile/logs?limit=1'));
    expect(page1.lines).toHaveLength(1);
    const rest = await ok<{ lines: { id: number }[]; next: number }>(as('viewer', 'GET', `/dags/recoverable/runs/rec_1/tasks/fragile/logs?after=${page1.next}`));
    expect(rest.lines.every((l) => l.id > page1.next)).toBe(true);
    expect((await as('viewer', 'GET', '/dags/recoverable/runs/rec_1/tasks/nope/logs')).status).toBe(404);

    expect((await as('viewer', 'POST', '/dags/recoverable/runs/rec_1/clear', { taskIds: ['fragile'] })).status).toBe(403);
    const cleared = await ok<{ changed: { taskId: string; previousState: string }[] }>(
      as('operator', 'POST', '/dags/recoverable/runs/rec_1/clear', { taskIds: ['fragile'], downstream: true }),
    );
    expect(cleared.changed.map((c) => [c.taskId, c.previousState])).toEqual([['fragile', 'failed'], ['last', 'upstream_failed']]);
    expect(await untilFinished('recoverable', 'rec_1')).toBe('success');
    const unknownTask = await as('operator', 'POST', '/dags/recoverable/runs/rec_1/clear', { taskIds: ['nope'] });
    expect(unknownTask.status).toBe(404);
    expect(await unknownTask.json()).toMatchObject({ error: { message: "task 'nope' in DAG 'recoverable' not found" } });
  });

  it('marks task instances and cancels a running run', async () => {
    const run = await ok<{ runId: string }>(as('operator', 'POST', '/dags/busy/runs', {}), 201);
    await eventually(async () => {
      const tis = await ok<{ taskInstances: { taskId: string; state: string }[] }>(as('viewer', 'GET', `/dags/busy/runs/${encodeURIComponent(run.runId)}/tasks`));
      return tis.taskInstances.find((t) => t.taskId === 'long' && t.state === 'running');
    }, 15_000, 'long to run');
    const badMark = await as('operator', 'POST', `/dags/busy/runs/${encodeURIComponent(run.runId)}/mark`, { taskIds: ['long'], state: 'done' });
    expect(await badMark.json()).toMatchObject({ error: { code: 'INVALID_INPUT', field: 'state' } });
    const cancelled = await ok<{ changed: { taskId: string }[] }>(as('operator', 'POST', `/dags/busy/runs/${encodeURIComponent(run.runId)}/cancel`));
    expect(cancelled.changed.map((c) => c.taskId)).toEqual(['long', 'after_long']);
    expect(await ok(as('viewer', 'GET', `/dags/busy/runs/${encodeURIComponent(run.runId)}`))).toMatchObject({ state: 'failed' });
    const twice = await as('operator', 'POST', `/dags/busy/runs/${encodeURIComponent(run.runId)}/cancel`);
    expect(twice.status).toBe(409);
    const marked = await ok<{ changed: { taskId: string; previousState: string }[] }>(
      as('operator', 'POST', `/dags/busy/runs/${encodeURIComponent(run.runId)}/mark`, { taskIds: ['after_long'], state: 'success' }),
    );
    expect(marked.changed).toEqual([{ taskId: 'after_long', mapIndex: -1, previousState: 'skipped' }]);
  });
});

describe('session-cookie API calls', () => {
  it('need the CSRF header for state changes, not for reads', async () => {
    const client = new WebClient(app);
    await client.login(users.operator.username, users.operator.password);
    expect((await client.request('/api/v1/dags/diamond')).status).toBe(200);
    const noHeader = await client.request('/api/v1/dags/diamond', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ isPaused: true }) });
    expect(noHeader.status).toBe(403);
    expect(await noHeader.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    expect((await client.json('PATCH', '/api/v1/dags/diamond', { isPaused: true })).status).toBe(200);
    expect((await client.json('PATCH', '/api/v1/dags/diamond', { isPaused: false })).status).toBe(200);
  });
});

describe('error shapes', () => {
  it('names the query field that is wrong, answers unknown routes and malformed JSON as JSON', async () => {
    const limit = await as('viewer', 'GET', '/dags?limit=0');
    expect(limit.status).toBe(400);
    expect(await limit.json()).toMatchObject({ error: { code: 'INVALID_INPUT', field: 'limit' } });
    const route = await as('viewer', 'GET', '/nothing-here');
    expect(route.status).toBe(404);
    expect(await route.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const malformed = await app.request('/api/v1/pools', { method: 'POST', headers: { authorization: `Bearer ${users.admin.token}`, 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});
