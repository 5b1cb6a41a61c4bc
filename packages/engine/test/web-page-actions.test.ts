import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRunSummary, listRuns } from '../src/service/run-queries.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import type { WebEnv } from '../src/web/types.js';
import { eventually, type TestSetup } from './helpers.js';
import { WebClient } from './support/web-client.js';
import { runToEnd, webPageSetup } from './support/web-dags.js';

let setup: TestSetup;
let app: Hono<WebEnv>;
let viewer: WebClient;
let operator: WebClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ setup, app, viewer, operator, close } = await webPageSetup());
});
afterAll(() => close?.());

const enc = encodeURIComponent;
const db = () => setup.engine.db;
const audit = (action: string) => db().selectFrom('tributary.audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
const dialog = { 'hx-request': 'true', 'hx-target': 'div#dialog-body' };
const runState = async (dagId: string, runId: string) => (await getRunSummary(db(), dagId, runId)).state;
const tiState = async (dagId: string, runId: string, taskId: string) =>
  (await db().selectFrom('tributary.task_instance as t').innerJoin('tributary.dag_run as r', 'r.id', 't.run_pk').select('t.state').where('r.dag_id', '=', dagId).where('r.run_id', '=', runId).where('t.task_id', '=', taskId).executeTakeFirstOrThrow()).state;

describe('trigger form', () => {
  it('is generated from the params schema, with defaults, hints and descriptions (escaped)', async () => {
    const { html } = await operator.page('/dags/with_params/trigger');
    expect(html).toMatch(/<label for="f-county">county<span class="req" title="required"> \*<\/span><\/label><input type="text" id="f-county" name="param.county" required="" value=""\/>/);
    expect(html).toMatch(/<input type="text" inputmode="numeric" id="f-limit" name="param.limit" value="25"\/>/);
    expect(html).toContain('pattern ^[a-z_]+$');
    const xss = await operator.page('/dags/ui_xss/trigger');
    expect(xss.html).toContain('&lt;i&gt;free text&lt;/i&gt;');
    expect(xss.html).toContain('value="&lt;u&gt;hi&lt;/u&gt;"');
  });

  it('shows invalid params beside their fields (400) and creates nothing', async () => {
    const response = await operator.form('/dags/with_params/trigger', { 'param.county': 'King County', 'param.limit': '0' });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('Nothing was triggered: fix the fields marked below.');
    expect(html).toMatch(/<div class="field invalid" data-param="county">.*?<p class="field-error" id="f-county-error" role="alert">county must match pattern &quot;\^\[a-z_\]\+\$&quot;<\/p>/s);
    expect(html).toMatch(/<div class="field invalid" data-param="limit">.*?limit must be &gt;= 1<\/p>/s);
    expect(html).toContain('value="King County"');
    const missing = await (await operator.form('/dags/with_params/trigger', { 'param.limit': '5' })).text();
    expect(missing).toContain('county is required');
    const notNumber = await (await operator.form('/dags/with_params/trigger', { 'param.county': 'king', 'param.limit': 'lots' })).text();
    expect(notNumber).toContain('limit must be integer');
    expect((await listRuns(db(), { dagId: 'with_params' })).total).toBe(0);
  });

  it('triggers a valid run through the service, redirects to the grid with a notice, and audits who and from where', async () => {
    const response = await operator.form('/dags/with_params/trigger', { 'param.county': 'king', 'param.limit': '40', _runId: 'form_run_1' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/dags/with_params');
    const grid = await operator.page('/dags/with_params');
    expect(grid.html).toContain('<p class="notice ok" role="status">Triggered run form_run_1.</p>');
    expect((await operator.page('/dags/with_params')).html).not.toContain('Triggered run form_run_1.');
    const run = await getRunSummary(db(), 'with_params', 'form_run_1');
    expect(run).toMatchObject({ conf: { county: 'king', limit: 40 }, triggeredBy: 'operator-user', runType: 'manual' });
    expect(await audit('trigger')).toContainEqual(expect.objectContaining({ actor: 'operator-user', origin: 'local', dag_id: 'with_params', run_id: 'form_run_1' }));
    const again = await operator.form('/dags/with_params/trigger', { 'param.county': 'king', _runId: 'form_run_1' });
    expect(again.status).toBe(409);
    expect(await again.text()).toMatch(/id="f-run-id-error" role="alert">DAG &#39;with_params&#39;: a run with id &#39;form_run_1&#39;/);
  });

  it('takes a JSON object for a DAG without a params schema and a logical date in UTC', async () => {
    const bad = await operator.form('/dags/diamond/trigger', { _conf: '[1, 2]' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('must be a JSON object');
    const ok = await operator.form('/dags/diamond/trigger', { _conf: '{"x": 1}', _logicalDate: '2024-03-04T05:06:07', _runId: 'dated' });
    expect(ok.status).toBe(303);
    expect(await getRunSummary(db(), 'diamond', 'dated')).toMatchObject({ conf: { x: 1 }, logicalDate: new Date('2024-03-04T05:06:07Z') });
  });

  it('refuses viewers and requests without the CSRF token', async () => {
    const denied = await viewer.form('/dags/with_params/trigger', { 'param.county': 'king' });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('this needs operator');
    const forged = await operator.form('/dags/with_params/trigger', { 'param.county': 'king', _runId: 'forged' }, { csrf: false });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toContain('text/html');
    expect(await forged.text()).toContain('CSRF_FAILED');
    const anonymous = await new WebClient(app).form('/dags/with_params/trigger', {}, { csrf: false });
    expect(anonymous.status).toBe(403);
    expect((await listRuns(db(), { dagId: 'with_params' })).runs.map((r) => r.runId)).toEqual(['form_run_1']);
  });
});

describe('clear, mark and cancel', () => {
  it('confirms a clear with what it will change, then clears through the service and the run succeeds', async () => {
    const runId = await runToEnd(setup.engine, 'recoverable');
    expect(await runState('recoverable', runId)).toBe('failed');
    const url = `/dags/recoverable/runs/${enc(runId)}/clear`;
    const step = await operator.page(`${url}?tasks=fragile&downstream=1`, dialog);
    expect(step.html).not.toContain('<html');
    expect(step.html).toContain('2 task instances will be cleared:');
    expect(step.html).toMatch(/<code>fragile<\/code> <span class="state s-failed">failed<\/span>/);
    expect(step.html).toMatch(/<code>last<\/code> <span class="state s-upstream_failed">upstream failed<\/span>/);
    expect(step.html).toContain(`<form method="post" action="${url}" id="confirm-form">`);
    const without = await operator.page(`${url}?tasks=fragile`);
    expect(without.html).toMatch(/^<!doctype html>/);
    expect(without.html).toContain('1 task instance will be cleared:');

    expect((await viewer.form(url, { tasks: 'fragile', downstream: '1' })).status).toBe(403);
    expect((await operator.form(url, { tasks: 'fragile', downstream: '1' }, { csrf: false })).status).toBe(403);
    expect(await tiState('recoverable', runId, 'fragile')).toBe('failed');

    const done = await operator.form(url, { tasks: 'fragile', downstream: '1' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`/dags/recoverable/runs/${enc(runId)}/tasks/fragile`);
    expect((await operator.page(done.headers.get('location')!)).html).toContain(`Cleared 2 task instances of ${runId}.`);
    await waitForRun(db(), (await getRunSummary(db(), 'recoverable', runId)).pk, { timeoutMs: 30_000 });
    expect(await runState('recoverable', runId)).toBe('success');
    expect(await audit('clear')).toContainEqual(expect.objectContaining({ actor: 'operator-user', origin: 'local', run_id: runId, details: expect.objectContaining({ tasks: ['fragile', 'last'], downstream: true }) }));
  });

  it('marks task instances success or failed after confirming', async () => {
    const runId = await runToEnd(setup.engine, 'diamond');
    const url = `/dags/diamond/runs/${enc(runId)}/mark`;
    const step = await operator.page(`${url}?state=failed&tasks=b&downstream=1`, dialog);
    expect(step.html).toContain('2 task instances will be marked failed:');
    expect((await viewer.form(url, { state: 'failed', tasks: 'b' })).status).toBe(403);
    const done = await operator.form(url, { state: 'failed', tasks: 'b', downstream: '1', next: `/dags/diamond/runs/${enc(runId)}` });
    expect(done.headers.get('location')).toBe(`/dags/diamond/runs/${enc(runId)}`);
    expect(await tiState('diamond', runId, 'b')).toBe('failed');
    expect(await tiState('diamond', runId, 'd')).toBe('failed');
    await eventually(async () => (await runState('diamond', runId)) === 'failed', 15_000, 'the run to fail');
    await operator.form(url, { state: 'success', tasks: 'b,d' });
    expect(await tiState('diamond', runId, 'b')).toBe('success');
    expect((await audit('mark_failed')).at(-1)).toMatchObject({ actor: 'operator-user', run_id: runId, details: { tasks: ['b', 'd'] } });
    expect((await audit('mark_success')).at(-1)).toMatchObject({ run_id: runId });
    // Where to go next is followed only within the site.
    const offsite = await operator.form(url, { state: 'success', tasks: 'a', next: '//evil.example/' });
    expect(offsite.headers.get('location')).toBe(`/dags/diamond/runs/${enc(runId)}/tasks/a`);
  });

  it('cancels a running run after confirming; cancelling a finished one says why not', async () => {
    const run = await triggerDag(setup.engine.context, 'busy', { runId: 'busy_1' });
    await eventually(async () => (await tiState('busy', 'busy_1', 'long')) === 'running', 20_000, 'the long task to run');
    const url = '/dags/busy/runs/busy_1/cancel';
    const step = await operator.page(url, dialog);
    expect(step.html).toMatch(/<code>long<\/code> <span class="state s-running">running<\/span>/);
    expect((await viewer.form(url)).status).toBe(403);
    const done = await operator.form(url);
    expect(done.status).toBe(303);
    expect(await waitForRun(db(), run.id, { timeoutMs: 20_000 })).toBe('failed');
    expect(await tiState('busy', 'busy_1', 'after_long')).toBe('skipped');
    expect(await audit('cancel_run')).toContainEqual(expect.objectContaining({ actor: 'operator-user', run_id: 'busy_1' }));
    const again = await operator.form(url);
    expect((await operator.page(again.headers.get('location')!)).html).toMatch(/<p class="notice error" role="alert">[^<]*already finished \(failed\)<\/p>/);
    expect((await operator.page(url, dialog)).html).toContain('nothing to cancel');
  });

  it('answers actions on runs or DAGs that do not exist with 404 pages naming them', async () => {
    const step = await operator.page('/dags/diamond/runs/nope/clear');
    expect(step.status).toBe(404);
    expect(step.html).toContain('run &#39;nope&#39; of DAG &#39;diamond&#39; not found');
    const post = await operator.form('/dags/nope/pause', { paused: 'true' });
    expect(post.status).toBe(404);
    expect(await post.text()).toContain('DAG &#39;nope&#39; not found');
    const task = await operator.page(`/dags/diamond/runs/dated/clear?tasks=zz`);
    expect(task.html).toContain('task &#39;zz&#39; in DAG &#39;diamond&#39; not found');
  });
});

describe('pause and backfill', () => {
  it('pauses and unpauses after confirming, going back to the page it came from', async () => {
    const step = await operator.page('/dags/slow/pause?paused=true&next=%2F%3Fsearch%3Dslow', dialog);
    expect(step.html).toContain('While paused, no scheduled runs are created');
    expect((await viewer.form('/dags/slow/pause', { paused: 'true' })).status).toBe(403);
    const done = await operator.form('/dags/slow/pause', { paused: 'true', next: '/?search=slow' });
    expect(done.headers.get('location')).toBe('/?search=slow');
    const list = await operator.page('/?search=slow');
    expect(list.html).toContain('Paused slow.');
    expect(list.html).toMatch(/<a class="switch off" href="\/dags\/slow\/pause\?paused=false&amp;next=/);
    await operator.form('/dags/slow/pause', { paused: 'false' });
    expect((await db().selectFrom('tributary.dag').select('is_paused').where('dag_id', '=', 'slow').executeTakeFirstOrThrow()).is_paused).toBe(false);
    expect((await audit('pause')).map((e) => [e.actor, e.dag_id])).toContainEqual(['operator-user', 'slow']);
    expect((await audit('unpause')).map((e) => [e.actor, e.dag_id])).toContainEqual(['operator-user', 'slow']);
  });

  it('previews a backfill plan, starts it, and cancels it from the backfills page', async () => {
    const url = '/dags/ui_backfill/backfill';
    const missing = await operator.form(url, { from: '', to: '2024-01-03T00:00' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('give the first logical date');
    const backwards = await operator.form(url, { from: '2024-01-05T00:00', to: '2024-01-01T00:00', dryRun: '1' });
    expect(await backwards.text()).toMatch(/<div class="field invalid">.*?to: is before from/s);
    const plan = await (await operator.form(url, { from: '2024-01-01T00:00', to: '2024-01-03T00:00', dryRun: '1' })).text();
    expect(plan).toContain('<strong>3</strong> intervals: 3 new runs');
    expect(plan).toContain('2024-01-02 00:00:00');
    expect(await db().selectFrom('tributary.backfill').selectAll().execute()).toHaveLength(0);
    expect((await viewer.form(url, { from: '2024-01-01T00:00', to: '2024-01-03T00:00' })).status).toBe(403);

    const started = await operator.form(url, { from: '2024-01-01T00:00', to: '2024-01-03T00:00' });
    expect(started.headers.get('location')).toBe('/backfills?dagId=ui_backfill');
    const page = await operator.page('/backfills?dagId=ui_backfill');
    expect(page.html).toMatch(/Backfill \d+ of ui_backfill started: 3 intervals\. The DAG is paused/);
    const id = /href="\/backfills\/(\d+)\/cancel"/.exec(page.html)![1]!;
    expect((await operator.page(`/backfills/${id}/cancel`, dialog)).html).toContain(`Cancel backfill ${id} of ui_backfill`);
    expect((await viewer.form(`/backfills/${id}/cancel`)).status).toBe(403);
    await operator.form(`/backfills/${id}/cancel`);
    expect((await db().selectFrom('tributary.backfill').select('state').where('id', '=', Number(id)).executeTakeFirstOrThrow()).state).toBe('cancelled');
    expect(await audit('backfill_create')).toHaveLength(1);
    expect(await audit('backfill_cancel')).toContainEqual(expect.objectContaining({ actor: 'operator-user', dag_id: 'ui_backfill' }));
  });
});
