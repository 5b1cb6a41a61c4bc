import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection } from '../src/service/connections.js';
import { setVariable } from '../src/service/variables.js';
import type { WebEnv } from '../src/web/types.js';
import type { TestSetup } from './helpers.js';
import { WebClient } from './support/web-client.js';
import { runToEnd, webPageSetup } from './support/web-dags.js';

let setup: TestSetup;
let app: Hono<WebEnv>;
let viewer: WebClient;
let operator: WebClient;
let close: () => Promise<void>;
const runs: Record<string, string> = {};

beforeAll(async () => {
  ({ setup, app, viewer, operator, close } = await webPageSetup());
  for (const dagId of ['ui_xss', 'grouped', 'ui_mapped', 'recoverable', 'diamond']) runs[dagId] = await runToEnd(setup.engine, dagId);
  runs.grouped2 = await runToEnd(setup.engine, 'grouped', { params: { mode: 'slow' } });
});
afterAll(() => close?.());

const enc = (s: string | undefined) => encodeURIComponent(s!);
/** The HTML of the element with `id` up to the end of the page (enough to search within it). */
const from = (html: string, marker: string) => html.slice(html.indexOf(marker));

describe('signing in to the pages', () => {
  it('sends an anonymous visitor to the sign-in form and back to the page asked for', async () => {
    const anonymous = new WebClient(app);
    const response = await anonymous.request('/dags/diamond');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Fdags%2Fdiamond');
    const form = await anonymous.page('/login?next=%2Fdags%2Fdiamond');
    expect(form.html).toContain('name="next" value="/dags/diamond"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.html)![1]!;
    const users = { username: 'viewer-user', password: 'viewer-password-1' };
    const login = await anonymous.request('/login', { method: 'POST', body: new URLSearchParams({ ...users, _csrf: csrf, next: '/dags/diamond' }) });
    expect(login.headers.get('location')).toBe('/dags/diamond');
    expect((await anonymous.page('/dags/diamond')).status).toBe(200);
  });

  it('serves every page with a strict script policy, and htmx from node_modules with long caching', async () => {
    const { response, html } = await viewer.page('/');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).toMatch(/<body hx-headers:inherited="\{&quot;X-CSRF-Token&quot;:&quot;[\w-]+&quot;\}"/);
    const src = /<script src="(\/static\/htmx\.min\.js\?v=\w+)"/.exec(html)![1]!;
    const htmx = await app.request(src);
    expect(htmx.headers.get('cache-control')).toContain('immutable');
    expect(await htmx.text()).toMatch(/version="4\.\d+\.\d+"/);
    const css = await app.request('/static/app.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await app.request('/static/nope.js')).status).toBe(404);
  });
});

describe('DAG list', () => {
  it('lists DAGs with schedule, last and recent runs, next run and tags; DAG text is escaped', async () => {
    const { status, html } = await viewer.page('/');
    expect(status).toBe(200);
    expect(html).toContain('Signed in as <strong>viewer-user</strong>');
    expect(html).toContain('&lt;script&gt;alert(&quot;dag&quot;)&lt;/script&gt; scores deals');
    expect(html).not.toContain('<script>alert("dag")');
    const row = from(html, 'href="/dags/recoverable"');
    expect(row).toMatch(/class="dot s-failed" href="\/dags\/recoverable\/runs\/manual__/);
    expect(from(html, 'href="/dags/backfill_hourly"')).toContain('paused');
    expect(html).toContain('href="/?tags=scoring"');
    // A viewer gets no trigger buttons and the pause switches are not links.
    expect(html).not.toContain('/trigger"');
    expect(html).not.toMatch(/<a class="switch/);
  });

  it('shows import errors with the file and its (escaped) message', async () => {
    const { html } = await viewer.page('/');
    expect(html).toContain('1 DAG file failed to load');
    expect(from(html, 'id="import-errors"')).toMatch(/broken\.ts/);
    expect(html).toContain('&lt;b&gt;broken&lt;/b&gt; on purpose');
    expect(html).not.toContain('<b>broken</b>');
  });

  it('searches by id or description, filters by tags and paused, and pages', async () => {
    const rows = (html: string) => [...from(html, '<tbody').matchAll(/class="dag-id" href="\/dags\/([^"]+)"/g)].map((m) => m[1]);
    expect(rows((await viewer.page('/?search=SCORES')).html)).toEqual(['ui_xss']);
    expect(rows((await viewer.page('/?tags=ui,scoring')).html)).toEqual(['ui_xss']);
    const paused = rows((await viewer.page('/?paused=paused')).html);
    expect(paused).toContain('backfill_hourly');
    expect(paused).not.toContain('diamond');
    const page = await viewer.page('/?limit=5&offset=5');
    expect(rows(page.html)).toHaveLength(5);
    expect(page.html).toMatch(/6–10 of \d+/);
    expect((await viewer.page('/?search=no-such-dag')).html).toContain('No DAG matches these filters.');
  });
});

describe('grid', () => {
  it('has a column per run and a cell per task coloured by state; groups stay collapsed until opened', async () => {
    const { html } = await viewer.page('/dags/grouped');
    const grid = from(html, 'id="grid"');
    expect(grid.match(/<th class="run-col" data-run="/g)).toHaveLength(2);
    expect(grid).toContain(`data-run="${runs.grouped}"`);
    expect(grid).toMatch(/<tr data-task="start" data-kind="task"><th[^>]*><a href="[^"]+">start<\/a><\/th><td class="s-success"><td class="s-success"><\/tr>/);
    // The group row summarizes its tasks; its tasks are hidden while it is collapsed.
    expect(grid).toMatch(/<tr class="group" data-task="extract" data-kind="group"><th[^>]*><a class="toggle" href="\/dags\/grouped\?open=extract"/);
    expect(grid).toMatch(/<tr data-task="extract.download" data-kind="task" hidden="">/);
    // Branch `pick` skipped the `slow` group in the first run and `fast` in the second.
    expect(grid).toMatch(/data-task="slow" data-kind="group"><th[^>]*>.*?<\/th><td class="s-skipped" data-c="2 skipped"><td class="s-success" data-c="2 success">/);
    const open = from((await viewer.page('/dags/grouped?open=extract,transform')).html, 'id="grid"');
    expect(open).toMatch(/<tr data-task="extract.download" data-kind="task">/);
    expect(open).toMatch(/<tr data-task="transform.clean.trim" data-kind="task" hidden="">/);
    expect(from((await viewer.page('/dags/grouped?open=*')).html, 'id="grid"')).toMatch(/<tr data-task="transform.clean.trim" data-kind="task">/);
  });

  it('summarizes a mapped task in one cell with its instance count', async () => {
    const grid = from((await viewer.page('/dags/ui_mapped')).html, 'id="grid"');
    expect(grid).toMatch(/data-task="square"[^>]*><th[^>]*><a[^>]*>square<\/a><span class="mapped" title="mapped: up to 3 instances">\[3\]<\/span><\/th><td class="s-success" data-c="3 success">/);
  });

  it('refreshes itself only while a shown run is unfinished, and pages through runs', async () => {
    const grid = from((await viewer.page('/dags/grouped')).html, 'id="grid"');
    expect(grid.slice(0, 200)).toContain('data-active="false"');
    expect(grid.slice(0, 200)).not.toContain('hx-trigger');
    const one = from((await viewer.page('/dags/grouped?runs=1')).html, 'id="grid"');
    expect(one.match(/class="run-col"/g)).toHaveLength(1);
    expect(one).toContain(`data-run="${runs.grouped2}"`);
    expect(one).toContain('href="/dags/grouped?runs=1&amp;offset=1">← Older');
    const older = from((await viewer.page('/dags/grouped?runs=1&offset=1')).html, 'id="grid"');
    expect(older).toContain(`data-run="${runs.grouped}"`);
    expect(from((await viewer.page('/dags/grouped?state=failed')).html, 'id="grid"')).toContain('No runs');
  });
});

describe('graph, gantt, code, versions and details', () => {
  it('draws the graph as SVG with every task and edge, coloured by the chosen run', async () => {
    const { html } = await viewer.page(`/dags/grouped/graph?run=${enc(runs.grouped)}`);
    const svg = from(html, '<svg class="graph');
    for (const id of ['start', 'extract.download', 'transform.clean.trim', 'pick', 'slow.two', 'end']) expect(svg).toContain(`data-task="${id}"`);
    expect(svg).toMatch(/<g class="node s-skipped" transform="translate\(\d+,\d+\)" data-task="slow.two">/);
    expect(svg).toMatch(/<g class="node s-success" [^>]*data-task="fast.one">/);
    expect(svg.match(/<path class="edge"/g)!.length).toBe(13);
    expect(svg).toContain('<g class="group-box">');
    expect(svg).toContain(`href="/dags/grouped/runs/${enc(runs.grouped)}/tasks/pick"`);
    const missing = await viewer.page('/dags/grouped/graph?run=nope');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('run &#39;nope&#39; of DAG &#39;grouped&#39; not found');
  });

  it('charts a run as a gantt of queued and running time per task', async () => {
    const { html } = await viewer.page(`/dags/recoverable/runs/${enc(runs.recoverable)}/gantt`);
    expect(html).toMatch(/<a href="[^"]+\/tasks\/fragile">fragile<\/a>/);
    expect(html).toMatch(/class="gantt-bar s-failed" style="left:[\d.]+%;width:[\d.]+%"/);
    expect(html).toMatch(/class="gantt-bar s-success"/);
    expect(from(html, 'tasks/last">last')).toContain('upstream failed');
  });

  it('shows the source with the version picker, the versions and the details', async () => {
    const code = await viewer.page('/dags/ui_xss/code');
    expect(code.html).toContain('&lt;script&gt;alert(&quot;dag&quot;)&lt;/script&gt;');
    expect(code.html).toMatch(/<option value="1" selected="">1 · [0-9a-f]{10}<\/option>/);
    expect((await viewer.page('/dags/ui_xss/code?version=9')).status).toBe(404);
    const versions = await viewer.page('/dags/ui_xss/versions');
    expect(versions.html).toMatch(/<td class="num">1<span class="pill"> latest<\/span><\/td>/);
    const details = await viewer.page('/dags/ui_xss/details');
    expect(details.html).toContain('&lt;i&gt;free text&lt;/i&gt;');
    expect(details.html).toContain('<code>shout</code>');
  });
});

describe('run and task instance pages', () => {
  it('shows a run with its params and a summary of every task instance', async () => {
    const { html } = await viewer.page(`/dags/ui_xss/runs/${enc(runs.ui_xss)}`);
    expect(html).toContain('&quot;note&quot;: &quot;&lt;u&gt;hi&lt;/u&gt;&quot;');
    expect(html).toMatch(/tasks\/shout">shout<\/a>/);
    expect(html).not.toContain('Clear all'); // viewers get no actions
    const mapped = await viewer.page(`/dags/ui_mapped/runs/${enc(runs.ui_mapped)}`);
    expect(mapped.html).toMatch(/<span class="mapped" title="3 success">\[3\]<\/span>/);
  });

  it('shows a task instance: arguments with secrets masked, result, tries and the log, all escaped', async () => {
    const { html } = await viewer.page(`/dags/ui_xss/runs/${enc(runs.ui_xss)}/tasks/shout`);
    expect(html).toContain('&quot;api_password&quot;: &quot;***&quot;');
    expect(html).not.toContain('hunter2');
    expect(html).toContain('&quot;html&quot;: &quot;&lt;script&gt;alert(\\&quot;xcom\\&quot;)&lt;/script&gt;&quot;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &lt;u&gt;hi&lt;/u&gt;');
    expect(html).not.toContain('<img src=x');
    // The try is over: the log has no tail polling for more.
    expect(html).not.toContain('class="log-tail"');
    expect(from(html, 'id="ti-live"').slice(0, 120)).not.toContain('hx-trigger');
  });

  it('serves log lines after an id as an htmx fragment, by try', async () => {
    const base = `/dags/recoverable/runs/${enc(runs.recoverable)}/tasks/fragile/log`;
    const all = await viewer.page(`${base}?try=1`);
    expect(all.html).not.toContain('<html');
    expect(all.html).toContain('fails the first time');
    const lines = [...all.html.matchAll(/class="log-line/g)].length;
    expect(lines).toBeGreaterThan(1);
    const ids = await setup.engine.db.selectFrom('tributary.task_log').select('id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    expect((await viewer.page(`${base}?try=1&after=${ids.id}`)).html).not.toContain('log-line');
    expect((await viewer.page(`/dags/recoverable/runs/${enc(runs.recoverable)}/tasks/nope/log`)).status).toBe(404);
  });

  it('lists the instances of a mapped task and shows each one with its own arguments', async () => {
    const base = `/dags/ui_mapped/runs/${enc(runs.ui_mapped)}/tasks/square`;
    const list = await viewer.page(base);
    expect(list.html).toContain('Mapped instances (3)');
    expect(list.html).toMatch(/href="[^"]+\/tasks\/square\?map=2"/);
    const one = await viewer.page(`${base}?map=1`);
    expect(one.html).toContain('square [1]');
    expect(one.html).toContain('&quot;n&quot;: 2');
    expect(one.html).toContain('&quot;power&quot;: 2');
    expect(one.html).toMatch(/<pre class="json">4<\/pre>/);
    expect((await viewer.page(`${base}?map=7`)).status).toBe(404);
  });

  it('answers 404 pages naming the DAG, run or task that does not exist', async () => {
    const dag = await viewer.page('/dags/nope');
    expect(dag.status).toBe(404);
    expect(dag.html).toContain('DAG &#39;nope&#39; not found');
    const run = await viewer.page('/dags/diamond/runs/nope');
    expect(run.html).toContain('run &#39;nope&#39; of DAG &#39;diamond&#39; not found');
    const task = await viewer.page(`/dags/diamond/runs/${enc(runs.diamond)}/tasks/zz`);
    expect(task.status).toBe(404);
    expect(task.html).toContain(`task &#39;zz&#39; in run &#39;${runs.diamond}&#39; of DAG &#39;diamond&#39; not found`);
    const page = await viewer.page('/no/such/page');
    expect(page.status).toBe(404);
    expect(page.html).toContain('There is no page at /no/such/page.');
  });
});

describe('pools, variables, connections, runs, backfills and audit log', () => {
  it('shows pools with their slots, variables and connections with secrets masked', async () => {
    const actor = { name: 'test', origin: 'test' };
    await setVariable(setup.engine.db, { key: 'db_password', value: 's3cret-value' }, actor);
    await setVariable(setup.engine.db, { key: 'region', value: '<b>us-west</b>' }, actor);
    await createConnection(setup.engine.db, 'warehouse', { connType: 'postgres', host: 'db.internal', port: 5432, login: 'etl', password: 'pg-pass-123', extra: { api_key: 'k-999', sslmode: 'require' } }, actor);
    const pools = await viewer.page('/pools');
    expect(pools.html).toMatch(/<tr id="pool-default_pool"><td><code>default_pool<\/code><\/td><td class="num">128<\/td>/);
    const variables = await viewer.page('/variables');
    expect(variables.html).toContain('<code>db_password</code>');
    expect(variables.html).not.toContain('s3cret-value');
    expect(variables.html).toContain('&lt;b&gt;us-west&lt;/b&gt;');
    const connections = await viewer.page('/connections');
    expect(connections.html).toContain('db.internal:5432');
    expect(connections.html).not.toContain('pg-pass-123');
    expect(connections.html).not.toContain('k-999');
    expect(connections.html).toContain('&quot;sslmode&quot;: &quot;require&quot;');
  });

  it('lists runs of every DAG and of one, filtered by state', async () => {
    const all = await viewer.page('/runs?state=failed');
    expect(all.html).toContain(`href="/dags/recoverable/runs/${enc(runs.recoverable)}"`);
    expect(all.html).not.toContain(`/dags/diamond/runs/${enc(runs.diamond)}"`);
    const one = await viewer.page('/dags/grouped/runs');
    expect(one.html).toContain('2 in all');
  });

  it('shows the audit log with filters, and backfills', async () => {
    const audit = await viewer.page('/audit-log?action=login');
    expect(audit.html).toContain('<a href="/audit-log?actor=viewer-user">viewer-user</a>');
    expect(audit.html).not.toMatch(/>trigger<\/a>/);
    expect((await viewer.page('/dags/diamond/audit')).status).toBe(200);
    expect((await viewer.page('/backfills')).html).toContain('No backfills.');
  });

  it('gives a viewer a 403 page naming the role an action needs, and operators the action buttons', async () => {
    const page = await viewer.page('/dags/diamond/trigger');
    expect(page.status).toBe(403);
    expect(page.html).toContain('User &#39;viewer-user&#39; has role viewer; this needs operator.');
    // An operator gets the buttons a viewer does not.
    const run = await operator.page(`/dags/recoverable/runs/${enc(runs.recoverable)}`);
    expect(run.html).toContain('Clear all…');
    expect(run.html).toContain('hx-target="#dialog-body"');
    expect((await operator.page('/')).html).toMatch(/<a class="switch on" href="\/dags\/diamond\/pause\?paused=true/);
  });
});
