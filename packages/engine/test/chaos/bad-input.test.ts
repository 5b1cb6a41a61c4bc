import type { Hono } from 'hono';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { runDagToCompletion } from '../../src/testing/index.js';
import { createWebApp } from '../../src/web/app.js';
import type { WebEnv } from '../../src/web/types.js';
import { setupEngine, type TestSetup } from '../helpers.js';
import { runCli } from '../support/cli.js';
import { apiAs, WebClient } from '../support/web-client.js';

// Chaos, fault 6: bad input on the REST API, the monitor's forms and the CLI. Every case must be
// refused with a 4xx (REST, forms) or a non-zero exit (CLI) whose message names what is wrong, show
// no stack trace, and change nothing: the whole `tributary` schema (audit log included) is compared
// before and after, and so is the number of jobs in the task queue.

const SQL = "x'; DROP TABLE tributary.dag; --";
const HTML = '<script>alert(1)</script>';
const enc = encodeURIComponent;
const MB5 = 'x'.repeat(5 * 1024 * 1024);

let setup: TestSetup;
let app: Hono<WebEnv>;
let as: Awaited<ReturnType<typeof apiAs>>['as'];
let users: Awaited<ReturnType<typeof apiAs>>['users'];
let operatorPage: WebClient;
/** Run ids of a failed `recoverable` run and a successful `diamond` run. */
let failedRun: string;
let doneRun: string;

beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  failedRun = (await runDagToCompletion(setup.engine, 'recoverable')).run.run_id;
  doneRun = (await runDagToCompletion(setup.engine, 'diamond')).run.run_id;
  app = createWebApp(setup.engine);
  ({ as, users } = await apiAs(app, setup.engine));
  operatorPage = new WebClient(app);
  await operatorPage.login(users.operator.username, users.operator.password);
});
afterAll(() => setup?.close());

/** Columns that reading or signing in updates (not state an action may change). */
const VOLATILE = ['last_used_at', 'last_login_at', 'heartbeat_at'];

/** Rows and a digest of every table of the `tributary` schema, and the task queue's job count. */
async function snapshot(db: Kysely<Database>): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'tributary' AND table_type = 'BASE TABLE' AND table_name <> 'web_session' ORDER BY 1`.execute(db);
  const out: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const row = await sql<{ n: number; digest: string }>`
      SELECT count(*)::int AS n, md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS digest
        FROM (SELECT (to_jsonb(t) - ${VOLATILE}::text[])::text AS r FROM ${sql.table(`tributary.${name}`)} t) s`.execute(db);
    out[name] = `${row.rows[0]!.n} rows, ${row.rows[0]!.digest}`;
  }
  const jobs = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary_queue.job`.execute(db);
  out['tributary_queue.job'] = `${jobs.rows[0]!.n} rows`;
  return out;
}

/** A request that must be refused. */
interface RestCase {
  name: string;
  send: () => Promise<Response>;
  status: number;
  code: string;
  /** What the message must say (naming the field, DAG, run, task or limit). */
  message: RegExp;
}

/** A raw JSON API request as the operator (for bodies `as()` cannot send: malformed, streamed). */
const raw = async (method: string, path: string, body: RequestInit['body']): Promise<Response> =>
  app.request(`/api/v1${path}`, {
    method,
    body,
    headers: { authorization: `Bearer ${users.operator.token}`, 'content-type': 'application/json' },
    duplex: 'half',
  } as RequestInit);

const REST: RestCase[] = [
  { name: 'trigger an unknown DAG', send: () => as('operator', 'POST', '/dags/nope/runs', {}), status: 404, code: 'NOT_FOUND', message: /^DAG 'nope' not found$/ },
  { name: 'trigger a DAG id with SQL', send: () => as('operator', 'POST', `/dags/${enc(SQL)}/runs`, {}), status: 404, code: 'NOT_FOUND', message: /^DAG 'x'; DROP TABLE tributary\.dag; --' not found$/ },
  { name: 'trigger a DAG id with HTML', send: () => as('operator', 'POST', `/dags/${enc(HTML)}/runs`, {}), status: 404, code: 'NOT_FOUND', message: /DAG '<script>alert\(1\)<\/script>' not found/ },
  { name: 'trigger with malformed JSON', send: () => raw('POST', '/dags/with_params/runs', '{"params":'), status: 400, code: 'BAD_REQUEST', message: /JSON/i },
  { name: 'trigger with a JSON array body', send: () => raw('POST', '/dags/with_params/runs', '[1]'), status: 400, code: 'INVALID_INPUT', message: /expected object/ },
  { name: 'trigger with params failing the schema', send: () => as('operator', 'POST', '/dags/with_params/runs', { params: { county: 42 } }), status: 400, code: 'PARAMS_INVALID', message: /DAG 'with_params': invalid params: county must be string/ },
  { name: 'trigger with SQL in a param', send: () => as('operator', 'POST', '/dags/with_params/runs', { params: { county: SQL } }), status: 400, code: 'PARAMS_INVALID', message: /county must match pattern/ },
  { name: 'trigger with a NUL character in a param', send: () => as('operator', 'POST', '/dags/diamond/runs', { params: { note: 'a\u0000b' } }), status: 400, code: 'PARAMS_INVALID', message: /note.*NUL/ },
  { name: 'trigger with a NUL character in the run id', send: () => as('operator', 'POST', '/dags/diamond/runs', { runId: 'a\u0000b' }), status: 400, code: 'INVALID_INPUT', message: /^runId: must not contain control characters, got U\+0000 at position 2$/ },
  { name: 'trigger with a run id over 250 characters', send: () => as('operator', 'POST', '/dags/diamond/runs', { runId: 'r'.repeat(251) }), status: 400, code: 'INVALID_INPUT', message: /^runId: / },
  { name: 'trigger with a logical date that is not one', send: () => as('operator', 'POST', '/dags/diamond/runs', { logicalDate: 'yesterday' }), status: 400, code: 'INVALID_INPUT', message: /^logicalDate: / },
  { name: 'trigger with a 5 MB body', send: () => as('operator', 'POST', '/dags/with_params/runs', { params: { county: MB5 } }), status: 413, code: 'PAYLOAD_TOO_LARGE', message: /larger than 1048576 bytes/ },
  {
    name: 'trigger with a 5 MB body sent without a length',
    send: () => raw('POST', '/dags/with_params/runs', new Blob([`{"params":{"county":"${MB5}"}}`]).stream()),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /larger than 1048576 bytes/,
  },
  { name: 'clear a run id with SQL', send: () => as('operator', 'POST', `/dags/recoverable/runs/${enc(SQL)}/clear`, {}), status: 404, code: 'NOT_FOUND', message: /run 'x'; DROP TABLE tributary\.dag; --' of DAG 'recoverable' not found/ },
  { name: 'clear a task id with HTML', send: () => as('operator', 'POST', `/dags/recoverable/runs/${enc(failedRun)}/clear`, { taskIds: [HTML] }), status: 404, code: 'NOT_FOUND', message: /task '<script>alert\(1\)<\/script>' in DAG 'recoverable' not found/ },
  { name: 'clear with taskIds not a list', send: () => as('operator', 'POST', `/dags/recoverable/runs/${enc(failedRun)}/clear`, { taskIds: 'fragile' }), status: 400, code: 'INVALID_INPUT', message: /^taskIds: / },
  { name: 'mark with an unknown state', send: () => as('operator', 'POST', `/dags/recoverable/runs/${enc(failedRun)}/mark`, { taskIds: ['fragile'], state: 'done' }), status: 400, code: 'INVALID_INPUT', message: /^state: / },
  { name: 'mark in a DAG id with HTML', send: () => as('operator', 'POST', `/dags/${enc(HTML)}/runs/r/mark`, { taskIds: ['a'], state: 'success' }), status: 404, code: 'NOT_FOUND', message: /DAG '<script>alert\(1\)<\/script>' not found/ },
  { name: 'cancel a finished run', send: () => as('operator', 'POST', `/dags/diamond/runs/${enc(doneRun)}/cancel`), status: 409, code: 'INVALID_STATE', message: /already finished \(success\)/ },
  { name: 'pause a DAG id with SQL', send: () => as('operator', 'PATCH', `/dags/${enc(SQL)}`, { isPaused: true }), status: 404, code: 'NOT_FOUND', message: /DAG 'x'; DROP TABLE tributary\.dag; --' not found/ },
  { name: 'pause with isPaused not a boolean', send: () => as('operator', 'PATCH', '/dags/diamond', { isPaused: 'yes' }), status: 400, code: 'INVALID_INPUT', message: /^isPaused: / },
  { name: 'create a pool named with SQL', send: () => as('admin', 'POST', '/pools', { name: SQL, slots: 1 }), status: 400, code: 'INVALID_INPUT', message: /^name: expected 1-128 letters/ },
  { name: 'create a pool with negative slots', send: () => as('admin', 'POST', '/pools', { name: 'p1', slots: -5 }), status: 400, code: 'INVALID_INPUT', message: /^slots: / },
  { name: 'create a pool with slots past a 32-bit integer', send: () => as('admin', 'POST', '/pools', { name: 'p1', slots: 2 ** 40 }), status: 400, code: 'INVALID_INPUT', message: /^slots: / },
  { name: 'resize a pool named with HTML', send: () => as('admin', 'PATCH', `/pools/${enc(HTML)}`, { slots: 3 }), status: 404, code: 'NOT_FOUND', message: /pool '<script>alert\(1\)<\/script>' not found/ },
  { name: 'delete default_pool', send: () => as('admin', 'DELETE', '/pools/default_pool'), status: 409, code: 'INVALID_STATE', message: /'default_pool' cannot be deleted/ },
  { name: 'set a variable keyed with SQL', send: () => as('admin', 'PUT', `/variables/${enc(SQL)}`, { value: 'v' }), status: 400, code: 'INVALID_INPUT', message: /^key: / },
  { name: 'create a user with an unknown role', send: () => as('admin', 'POST', '/users', { username: 'eve', role: 'root', password: 'a-long-password' }), status: 400, code: 'INVALID_INPUT', message: /^role: / },
  { name: 'list runs with a state that is HTML', send: () => as('viewer', 'GET', `/runs?state=${enc(HTML)}`), status: 400, code: 'INVALID_INPUT', message: /^state: / },
  { name: 'read code of a version past a 32-bit integer', send: () => as('viewer', 'GET', '/dags/diamond/code?version=99999999999'), status: 400, code: 'INVALID_INPUT', message: /^version: / },
  { name: 'read the result of a map index past a 32-bit integer', send: () => as('viewer', 'GET', `/dags/diamond/runs/${enc(doneRun)}/tasks/a/xcom?mapIndex=99999999999`), status: 400, code: 'INVALID_INPUT', message: /^mapIndex: / },
  { name: 'read logs of a try past a 32-bit integer', send: () => as('viewer', 'GET', `/dags/recoverable/runs/${enc(failedRun)}/tasks/fragile/logs?try=99999999999`), status: 400, code: 'INVALID_INPUT', message: /^try: / },
  { name: 'list DAGs from an offset past a 64-bit integer', send: () => as('viewer', 'GET', '/dags?offset=1e30'), status: 400, code: 'INVALID_INPUT', message: /^offset: / },
  { name: 'revoke a token id with 11 digits', send: () => as('admin', 'DELETE', '/tokens/99999999999'), status: 404, code: 'NOT_FOUND', message: /^API token 99999999999 not found$/ },
  { name: 'read logs after a position that is not a number', send: () => as('viewer', 'GET', `/dags/recoverable/runs/${enc(failedRun)}/tasks/fragile/logs?after=${enc(SQL)}`), status: 400, code: 'INVALID_INPUT', message: /^after: / },
];

describe('bad input on the REST API', () => {
  it.each(REST)('$name: $status $code, nothing changed', async (c) => {
    const before = await snapshot(setup.engine.db);
    const response = await c.send();
    const text = await response.text();
    expect(response.status, text.slice(0, 500)).toBe(c.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(c.code);
    expect(body.error.message).toMatch(c.message);
    expect(text).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack trace
    expect(text.length).toBeLessThan(4096); // the message does not echo a huge input
    expect(await snapshot(setup.engine.db)).toEqual(before);
  });
});

/** A monitor form post that must be refused: status, and text the error page must show (escaped). */
const FORMS: { name: string; path: string; fields: Record<string, string>; status: number; shows: string }[] = [
  { name: 'trigger a DAG id with HTML', path: `/dags/${enc(HTML)}/trigger`, fields: {}, status: 404, shows: '&lt;script&gt;alert(1)&lt;/script&gt;' },
  { name: 'trigger with a param failing the schema', path: '/dags/with_params/trigger', fields: { 'param.county': HTML }, status: 400, shows: 'must match pattern' },
  { name: 'trigger with malformed params', path: '/dags/diamond/trigger', fields: { _conf: '{county:' }, status: 400, shows: 'is not valid JSON' },
  { name: 'trigger with a NUL character in the params', path: '/dags/diamond/trigger', fields: { _conf: '{"note": "a\\u0000b"}' }, status: 400, shows: 'NUL character' },
  { name: 'trigger with a control character in the run id', path: '/dags/diamond/trigger', fields: { _runId: 'a\u0007b' }, status: 400, shows: 'runId: must not contain control characters, got U+0007 at position 2' },
  { name: 'backfill from a date that is not one', path: '/dags/backfill_daily/backfill', fields: { from: SQL, to: '2024-01-03' }, status: 400, shows: 'from: expected a Date or an ISO 8601 date' },
  { name: 'backfill with to before from', path: '/dags/backfill_daily/backfill', fields: { from: '2024-01-05', to: '2024-01-01' }, status: 400, shows: 'to: is before from' },
  { name: 'backfill with params failing the schema', path: '/dags/backfill_daily/backfill', fields: { from: '2024-01-01', to: '2024-01-02', params: '{"fail": "yes"}' }, status: 400, shows: 'fail must be boolean' },
  { name: 'backfill with runs at once past a 32-bit integer', path: '/dags/backfill_daily/backfill', fields: { from: '2024-01-01', to: '2024-01-02', maxActiveRuns: '99999999999' }, status: 400, shows: 'maxActiveRuns: expected an integer from 1 to 2147483647' },
  { name: 'pause with a 5 MB form', path: '/dags/diamond/pause', fields: { paused: MB5 }, status: 413, shows: 'larger than 1048576 bytes' },
];

describe('bad input on the monitor’s forms', () => {
  it.each(FORMS)('$name: $status, nothing changed', async (c) => {
    const before = await snapshot(setup.engine.db);
    const response = await operatorPage.form(c.path, c.fields);
    const html = await response.text();
    expect(response.status, html.slice(0, 500)).toBe(c.status);
    expect(html).toContain(c.shows);
    expect(html).not.toContain(HTML);
    expect(html).not.toMatch(/\n\s+at /);
    expect(await snapshot(setup.engine.db)).toEqual(before);
  });
});

describe('odd numbers in the monitor’s page addresses', () => {
  it('answer with the page or a 4xx, never a 5xx', async () => {
    const paths = [
      '/dags/diamond/code?version=99999999999',
      `/dags/diamond/runs/${enc(doneRun)}/tasks/a?map=99999999999&try=99999999999`,
      `/dags/recoverable/runs/${enc(failedRun)}/tasks/fragile/log?map=99999999999&try=99999999999&after=99999999999999999999`,
      '/backfills/99999999999/cancel',
      `/dags/${enc(SQL)}/grid?runs=${enc(HTML)}`,
    ];
    for (const path of paths) {
      const { status, html } = await operatorPage.page(path);
      expect(status, `${path}: ${html.slice(0, 300)}`).toBeLessThan(500);
      expect(html).not.toContain(HTML);
    }
  });
});

/** A CLI command that must fail: its exit code and what stderr must say. */
const CLI: { name: string; args: () => string[]; code: number; stderr: RegExp }[] = [
  { name: 'trigger an unknown DAG', args: () => ['dags', 'trigger', 'nope'], code: 1, stderr: /^error: DAG 'nope' not found$/m },
  { name: 'trigger a DAG id with SQL', args: () => ['dags', 'trigger', SQL], code: 1, stderr: /^error: DAG 'x'; DROP TABLE tributary\.dag; --' not found$/m },
  { name: 'trigger with malformed params', args: () => ['dags', 'trigger', 'with_params', '--params', '{county:'], code: 2, stderr: /^error: --params: not valid JSON/m },
  { name: 'trigger with params failing the schema', args: () => ['dags', 'trigger', 'with_params', '--params', '{"county": 42}'], code: 1, stderr: /invalid params: county must be string/ },
  { name: 'trigger with params that are a list', args: () => ['dags', 'trigger', 'diamond', '--params', '[1]'], code: 1, stderr: /invalid params: \(root\) must be a JSON object, got an array/ },
  { name: 'trigger with a NUL character in a param', args: () => ['dags', 'trigger', 'diamond', '--params', '{"note": "a\\u0000b"}'], code: 1, stderr: /note.*NUL/ },
  { name: 'trigger with 120 KB of params failing the schema', args: () => ['dags', 'trigger', 'with_params', '--params', JSON.stringify({ county: 'X'.repeat(120_000) })], code: 1, stderr: /county must match pattern/ },
  { name: 'trigger with a run id over 250 characters', args: () => ['dags', 'trigger', 'diamond', '--run-id', 'r'.repeat(251)], code: 1, stderr: /runId: / },
  { name: 'trigger with a control character in the run id', args: () => ['dags', 'trigger', 'diamond', '--run-id', 'a\tb'], code: 1, stderr: /runId: must not contain control characters, got U\+0009 at position 2/ },
  { name: 'pause a DAG id with HTML', args: () => ['dags', 'pause', HTML], code: 1, stderr: /DAG '<script>alert\(1\)<\/script>' not found/ },
  { name: 'clear a run id with SQL', args: () => ['tasks', 'clear', 'recoverable', SQL], code: 1, stderr: /run 'x'; DROP TABLE tributary\.dag; --' of DAG 'recoverable' not found/ },
  { name: 'clear an unknown task', args: () => ['tasks', 'clear', 'recoverable', failedRun, HTML], code: 1, stderr: /task '<script>alert\(1\)<\/script>' in DAG 'recoverable' not found/ },
  { name: 'mark with an unknown state', args: () => ['tasks', 'mark', 'recoverable', failedRun, 'fragile', 'done'], code: 2, stderr: /<state>: expected success or failed, got 'done'/ },
  { name: 'cancel a finished run', args: () => ['runs', 'cancel', 'diamond', doneRun], code: 1, stderr: /already finished \(success\)/ },
  { name: 'backfill an unknown DAG', args: () => ['backfill', 'create', SQL, '--from', '2024-01-01', '--to', '2024-01-02'], code: 1, stderr: /DAG 'x'; DROP TABLE tributary\.dag; --' not found/ },
  { name: 'backfill from a date that is not one', args: () => ['backfill', 'create', 'backfill_daily', '--from', HTML, '--to', '2024-01-02'], code: 1, stderr: /from: expected a Date or an ISO 8601 date/ },
  { name: 'backfill with to before from', args: () => ['backfill', 'create', 'backfill_daily', '--from', '2024-01-05', '--to', '2024-01-01'], code: 1, stderr: /to: is before from/ },
  { name: 'backfill with params failing the schema', args: () => ['backfill', 'create', 'backfill_daily', '--from', '2024-01-01', '--to', '2024-01-02', '--params', '{"fail":"yes"}'], code: 1, stderr: /fail must be boolean/ },
  { name: 'backfill with no runs at once', args: () => ['backfill', 'create', 'backfill_daily', '--from', '2024-01-01', '--to', '2024-01-02', '--max-active-runs', '0'], code: 2, stderr: /--max-active-runs: expected an integer >= 1/ },
  { name: 'backfill with runs at once past a 32-bit integer', args: () => ['backfill', 'create', 'backfill_daily', '--from', '2024-01-01', '--to', '2024-01-02', '--max-active-runs', '99999999999'], code: 1, stderr: /maxActiveRuns: expected an integer from 1 to 2147483647/ },
  { name: 'cancel an unknown backfill', args: () => ['backfill', 'cancel', '999'], code: 1, stderr: /backfill 999 not found/ },
  { name: 'set a pool named with SQL', args: () => ['pools', 'set', SQL, '4'], code: 1, stderr: /name: expected 1-128 letters/ },
  { name: 'set a pool to slots past a 32-bit integer', args: () => ['pools', 'set', 'p1', '99999999999'], code: 2, stderr: /slots: expected a whole number/ },
  { name: 'delete default_pool', args: () => ['pools', 'delete', 'default_pool'], code: 1, stderr: /'default_pool' cannot be deleted/ },
];

describe('bad input on the CLI', () => {
  it.each(CLI)('$name: exit $code, nothing changed', async (c) => {
    const before = await snapshot(setup.engine.db);
    const result = await runCli(setup.database.url, c.args());
    expect(result.code, result.stderr).toBe(c.code);
    expect(result.stderr).toMatch(c.stderr);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stderr.length).toBeLessThan(4096);
    expect(await snapshot(setup.engine.db)).toEqual(before);
  });
});
