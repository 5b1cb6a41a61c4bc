import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DagRunRow } from '../src/db/schema.js';
import { listTaskInstances, triggerDag, waitForRun } from '../src/service/runs.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';
import { runCli } from './support/cli.js';

/**
 * The operator actions through the real `tributary` command, against a database where this file's
 * engine runs a scheduler and a worker (so cleared and unpaused work really runs again).
 */
let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
});
afterAll(() => setup?.close());

/** Who the CLI records in the audit log: the OS user, from `cli`. */
const CLI_ACTOR = { actor: process.env.USER ?? process.env.LOGNAME ?? 'cli', origin: 'cli' };

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(setup.database.url, [...args, '--dags-folder', 'test/fixtures/dags']);
}

/** The instances an action reports it changed: `[task, previous state]` rows of its table. */
function changed(stdout: string): string[][] {
  const [header, ...lines] = stdout.split('\n');
  expect(header).toMatch(/^task\s+was\s*$/);
  return lines.filter((line) => /^\S+\s+\S+\s*$/.test(line)).map((line) => line.trim().split(/\s+/));
}

/** Each task instance's state and try number, by task id (`task[2]` for a mapped instance). */
async function tasksOf(run: DagRunRow): Promise<Record<string, [string | null, number]>> {
  const instances = await listTaskInstances(setup.engine.db, run.id);
  return Object.fromEntries(instances.map((t) => [t.mapIndex >= 0 ? `${t.taskId}[${t.mapIndex}]` : t.taskId, [t.state, t.tryNumber]]));
}

/** The audit entries of one action, oldest first. */
async function auditOf(action: string) {
  return setup.engine.db.selectFrom('tributary.audit_log').selectAll().where('action', '=', action).orderBy('id').execute();
}

/** Everything an action could change: task instances, runs, pause flags and the audit log. */
async function snapshot(): Promise<string> {
  const rows = await sql`
    SELECT (SELECT json_agg(t ORDER BY t.id) FROM (SELECT id, state, try_number, max_tries FROM tributary.task_instance) t) AS tis,
           (SELECT json_agg(r ORDER BY r.id) FROM (SELECT id, state FROM tributary.dag_run) r) AS runs,
           (SELECT json_agg(d ORDER BY d.dag_id) FROM (SELECT dag_id, is_paused FROM tributary.dag) d) AS dags,
           (SELECT count(*) FROM tributary.audit_log) AS audit`.execute(setup.engine.db);
  return JSON.stringify(rows.rows);
}

/** A bad command: exit 1, an error naming what is wrong, and nothing changed. */
async function expectRefused(args: string[], message: string): Promise<void> {
  const before = await snapshot();
  const result = await cli(...args);
  expect(result.code, result.stdout).toBe(1);
  expect(result.stderr).toContain(`error: ${message}`);
  expect(await snapshot()).toBe(before);
}

/** A finished run of `recoverable` (first → fragile → last; fragile fails its first try). */
async function failedRecoverable(): Promise<DagRunRow> {
  const run = await triggerDag(setup.engine.context, 'recoverable');
  expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed');
  expect(await tasksOf(run)).toEqual({ first: ['success', 1], fragile: ['failed', 1], last: ['upstream_failed', 0] });
  return run;
}

/** A run of `busy` whose `long` task is running (until stopped). */
async function busyRun(): Promise<DagRunRow> {
  const run = await triggerDag(setup.engine.context, 'busy');
  await eventually(async () => (await tasksOf(run)).long?.[0] === 'running', 15_000, 'long to run');
  return run;
}

describe('tasks clear', { timeout: 180_000 }, () => {
  it('--downstream re-runs a failed task and the tasks it blocked; an unknown task is refused', async () => {
    const run = await failedRecoverable();
    await expectRefused(['tasks', 'clear', 'recoverable', run.run_id, 'fragil', '--downstream'], "task 'fragil' in DAG 'recoverable' not found");

    const cleared = await cli('tasks', 'clear', 'recoverable', run.run_id, 'fragile', '--downstream');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(changed(cleared.stdout)).toEqual([['fragile', 'failed'], ['last', 'upstream_failed']]);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('success');
    // `first` was not cleared: it kept its only try.
    expect(await tasksOf(run)).toEqual({ first: ['success', 1], fragile: ['success', 2], last: ['success', 1] });
    expect(await auditOf('clear')).toEqual([
      expect.objectContaining({
        ...CLI_ACTOR,
        dag_id: 'recoverable',
        run_id: run.run_id,
        details: { tasks: ['fragile', 'last'], downstream: true, upstream: false, onlyFailed: false },
      }),
    ]);
  });

  it('--upstream re-runs a task with everything above it; an unknown run is refused', async () => {
    const run = await failedRecoverable();
    await cli('tasks', 'clear', 'recoverable', run.run_id, 'fragile');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed'); // `last` stays upstream_failed
    await expectRefused(['tasks', 'clear', 'recoverable', 'no_such_run', 'last', '--upstream'], "run 'no_such_run' of DAG 'recoverable' not found");

    const cleared = await cli('tasks', 'clear', 'recoverable', run.run_id, 'last', '--upstream');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(changed(cleared.stdout)).toEqual([['first', 'success'], ['fragile', 'success'], ['last', 'upstream_failed']]);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('success');
    expect(await tasksOf(run)).toEqual({ first: ['success', 2], fragile: ['success', 3], last: ['success', 1] });
    expect((await auditOf('clear')).at(-1)).toMatchObject({
      ...CLI_ACTOR,
      run_id: run.run_id,
      details: { tasks: ['first', 'fragile', 'last'], downstream: false, upstream: true, onlyFailed: false },
    });
  });

  it('--only-failed re-runs only failed and upstream_failed instances; an unknown DAG is refused', async () => {
    // risky[1] fails: strict is upstream_failed, lenient (all_done) succeeded.
    const run = await triggerDag(setup.engine.context, 'mapped_partial');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed');
    const before = await tasksOf(run);
    expect(before).toEqual({
      'risky[0]': ['success', 1], 'risky[1]': ['failed', 1], 'risky[2]': ['success', 1], strict: ['upstream_failed', 0], lenient: ['success', 1],
    });
    await expectRefused(['tasks', 'clear', 'mapped_partal', run.run_id, '--only-failed'], "DAG 'mapped_partal' not found; did you mean 'mapped_partial'?");

    const cleared = await cli('tasks', 'clear', 'mapped_partial', run.run_id, '--only-failed');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(changed(cleared.stdout)).toEqual([['risky[1]', 'failed'], ['strict', 'upstream_failed']]);
    // risky[1] fails again; the instances that had succeeded were left alone.
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed');
    expect(await tasksOf(run)).toEqual({ ...before, 'risky[1]': ['failed', 2] });
    expect((await auditOf('clear')).at(-1)).toMatchObject({
      ...CLI_ACTOR,
      dag_id: 'mapped_partial',
      details: { tasks: ['risky', 'strict'], downstream: false, upstream: false, onlyFailed: true },
    });

    // Without --only-failed every instance is cleared; the audit entry names the mapped task once.
    const all = await cli('tasks', 'clear', 'mapped_partial', run.run_id, 'risky');
    expect(changed(all.stdout)).toEqual([['risky[0]', 'success'], ['risky[1]', 'failed'], ['risky[2]', 'success']]);
    expect((await auditOf('clear')).at(-1)).toMatchObject({ details: { tasks: ['risky'], onlyFailed: false } });
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed');
    expect(await tasksOf(run)).toMatchObject({ 'risky[0]': ['success', 2], 'risky[1]': ['failed', 3], 'risky[2]': ['success', 2] });
  });
});

describe('tasks mark', { timeout: 180_000 }, () => {
  it('success --downstream lets a failed run finish successfully; a bad state or unknown task is refused', async () => {
    const run = await failedRecoverable();
    const usage = await cli('tasks', 'mark', 'recoverable', run.run_id, 'fragile', 'done');
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining("<state>: expected success or failed, got 'done'") });
    await expectRefused(['tasks', 'mark', 'recoverable', run.run_id, 'fragil', 'success'], "task 'fragil' in DAG 'recoverable' not found");

    const marked = await cli('tasks', 'mark', 'recoverable', run.run_id, 'fragile', 'success', '--downstream');
    expect(marked.code, marked.stderr).toBe(0);
    expect(changed(marked.stdout)).toEqual([['fragile', 'failed'], ['last', 'upstream_failed']]);
    // Set by hand: no new tries, and the run settles at once.
    expect(await tasksOf(run)).toEqual({ first: ['success', 1], fragile: ['success', 1], last: ['success', 0] });
    expect((await setup.engine.db.selectFrom('tributary.dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()).state).toBe('success');
    expect(await auditOf('mark_success')).toEqual([
      expect.objectContaining({ ...CLI_ACTOR, dag_id: 'recoverable', run_id: run.run_id, details: { tasks: ['fragile', 'last'] } }),
    ]);
  });

  it('failed stops a running task, fails what depends on it and the run', async () => {
    const run = await busyRun();
    const marked = await cli('tasks', 'mark', 'busy', run.run_id, 'long', 'failed');
    expect(marked.code, marked.stderr).toBe(0);
    expect(changed(marked.stdout)).toEqual([['long', 'running']]);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('failed');
    expect(await tasksOf(run)).toEqual({ long: ['failed', 1], after_long: ['upstream_failed', 0] });
    const tries = await setup.engine.db.selectFrom('tributary.task_try as tt').innerJoin('tributary.task_instance as t', 't.id', 'tt.ti_id').select(['tt.state', 'tt.error']).where('t.run_pk', '=', run.id).execute();
    expect(tries).toEqual([{ state: 'failed', error: { name: 'ExternalStateChange', message: `marked failed by ${CLI_ACTOR.actor}` } }]);
    expect(await auditOf('mark_failed')).toEqual([expect.objectContaining({ ...CLI_ACTOR, dag_id: 'busy', run_id: run.run_id, details: { tasks: ['long'] } })]);
  });
});

describe('runs cancel', { timeout: 180_000 }, () => {
  it('fails the running task, skips the rest and fails the run; an unknown or finished run is refused', async () => {
    const run = await busyRun();
    await expectRefused(['runs', 'cancel', 'busy', 'no_such_run'], "run 'no_such_run' of DAG 'busy' not found");

    const cancelled = await cli('runs', 'cancel', 'busy', run.run_id);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(changed(cancelled.stdout)).toEqual([['long', 'running'], ['after_long', 'none']]);
    expect(cancelled.stdout).toContain(`Run ${run.run_id} cancelled`);
    expect(await tasksOf(run)).toEqual({ long: ['failed', 1], after_long: ['skipped', 0] });
    expect((await setup.engine.db.selectFrom('tributary.dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()).state).toBe('failed');
    expect(await auditOf('cancel_run')).toEqual([expect.objectContaining({ ...CLI_ACTOR, dag_id: 'busy', run_id: run.run_id, details: { stopped: 2 } })]);
    // The worker stops the task at its next heartbeat.
    await eventually(async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE state = 'running'`.execute(setup.engine.db)).rows[0]!.n === 0, 10_000, 'the task to stop');

    await expectRefused(['runs', 'cancel', 'busy', run.run_id], `DAG 'busy': run '${run.run_id}' already finished (failed)`);
  });
});

describe('dags pause and unpause', { timeout: 180_000 }, () => {
  it('pause holds new runs queued, unpause starts them; an unknown DAG is refused', async () => {
    await expectRefused(['dags', 'pause', 'diamnd'], "DAG 'diamnd' not found; did you mean 'diamond'?");

    const paused = await cli('dags', 'pause', 'diamond');
    expect(paused).toMatchObject({ code: 0, stdout: 'DAG diamond paused\n' });
    const isPaused = async () => (await setup.engine.db.selectFrom('tributary.dag').select('is_paused').where('dag_id', '=', 'diamond').executeTakeFirstOrThrow()).is_paused;
    expect(await isPaused()).toBe(true);
    const run = await triggerDag(setup.engine.context, 'diamond');
    expect(run.state).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 500)); // a few scheduler loops: nothing starts
    expect((await setup.engine.db.selectFrom('tributary.dag_run').select('state').where('id', '=', run.id).executeTakeFirstOrThrow()).state).toBe('queued');

    const unpaused = await cli('dags', 'unpause', 'diamond');
    expect(unpaused).toMatchObject({ code: 0, stdout: 'DAG diamond unpaused\n' });
    expect(await isPaused()).toBe(false);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 20_000 })).toBe('success');
    expect([...(await auditOf('pause')), ...(await auditOf('unpause'))]).toEqual([
      expect.objectContaining({ ...CLI_ACTOR, action: 'pause', dag_id: 'diamond', run_id: null }),
      expect.objectContaining({ ...CLI_ACTOR, action: 'unpause', dag_id: 'diamond', run_id: null }),
    ]);
  });
});
