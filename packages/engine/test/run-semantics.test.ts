import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParamsValidationError } from '../src/errors.js';
import { getTaskLogs } from '../src/service/logs.js';
import { triggerDag } from '../src/service/runs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
});
afterAll(() => setup?.close());

const states = (tasks: { taskId: string; state: string | null }[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));

async function xcom(runPk: number, taskId: string): Promise<unknown> {
  const rows = await sql<{ value: unknown }>`
    SELECT value FROM tributary.xcom WHERE run_pk = ${runPk} AND task_id = ${taskId} AND key = 'return_value'`.execute(setup.engine.db);
  return rows.rows[0]?.value;
}

describe('running DAGs through Postgres and pg-boss', () => {
  it('runs a diamond: both branches after the root, the join after both, results passed along', async () => {
    const result = await runDagToCompletion(setup.engine, 'diamond');
    expect(result.state).toBe('success');
    expect(states(result.tasks)).toEqual({ a: 'success', b: 'success', c: 'success', d: 'success' });
    const byId = Object.fromEntries(result.tasks.map((t) => [t.taskId, t]));
    expect(byId.b!.startDate!.getTime()).toBeGreaterThanOrEqual(byId.a!.endDate!.getTime());
    expect(byId.c!.startDate!.getTime()).toBeGreaterThanOrEqual(byId.a!.endDate!.getTime());
    expect(byId.d!.startDate!.getTime()).toBeGreaterThanOrEqual(Math.max(byId.b!.endDate!.getTime(), byId.c!.endDate!.getTime()));
    expect(await xcom(result.run.id, 'd')).toEqual({ sum: 11 + 20, from: ['b', 'c'] });
    const run = await setup.engine.db.selectFrom('tributary.dag_run').selectAll().where('id', '=', result.run.id).executeTakeFirstOrThrow();
    const dag = await setup.engine.db.selectFrom('tributary.dag').select('latest_version_id').where('dag_id', '=', 'diamond').executeTakeFirstOrThrow();
    expect(run.dag_version_id).toBe(dag.latest_version_id);
  });

  it('propagates a failure as upstream_failed and runs tasks whose trigger rules allow it', async () => {
    const result = await runDagToCompletion(setup.engine, 'failures');
    expect(result.state).toBe('failed');
    expect(states(result.tasks)).toEqual({
      ok: 'success',
      boom: 'failed',
      after: 'upstream_failed',
      after_after: 'upstream_failed',
      cleanup: 'success',
      alert: 'success',
      skipped_alert: 'skipped',
    });
    const tries = await setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', result.tasks.find((t) => t.taskId === 'boom')!.id).execute();
    expect(tries).toHaveLength(1);
    expect(tries[0]!.state).toBe('failed');
    expect(tries[0]!.error).toMatchObject({ name: 'Error', message: 'boom went wrong' });
    const logs = await getTaskLogs(setup.engine.db, { dagId: 'failures', runId: result.run.run_id, taskId: 'boom' });
    expect(logs.map((l) => l.message).join('\n')).toMatch(/Task failed after \d+ ms: Error: boom went wrong/);
  });

  it('lets a task skip itself: no retry, and downstream follows the skipped rules', async () => {
    const result = await runDagToCompletion(setup.engine, 'skipping');
    expect(result.state).toBe('success');
    expect(states(result.tasks)).toEqual({ check: 'skipped', process: 'skipped', report: 'success' });
    const check = result.tasks.find((t) => t.taskId === 'check')!;
    const tries = await setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', check.id).execute();
    expect(tries).toEqual([expect.objectContaining({ state: 'skipped', error: { name: 'SkipTaskError', message: 'no new listings today' } })]);
  });

  it('retries with exponential backoff, waiting the configured delay before each try', async () => {
    const result = await runDagToCompletion(setup.engine, 'retries');
    expect(states(result.tasks)).toEqual({ flaky: 'success', never_retried: 'failed' });
    const flaky = result.tasks.find((t) => t.taskId === 'flaky')!;
    expect(flaky.tryNumber).toBe(3);
    const tries = await setup.engine.db
      .selectFrom('tributary.task_try')
      .selectAll()
      .where('ti_id', '=', flaky.id)
      .orderBy('try_number')
      .execute();
    expect(tries.map((t) => t.state)).toEqual(['failed', 'failed', 'success']);
    const waits = [1, 2].map((i) => tries[i]!.start_date.getTime() - tries[i - 1]!.end_date!.getTime());
    // 400 ms after try 1, 800 ms after try 2; never early, and not a scheduler-loop later.
    expect(waits[0]).toBeGreaterThanOrEqual(400 - 5);
    expect(waits[1]).toBeGreaterThanOrEqual(800 - 5);
    expect(waits[0]).toBeLessThan(400 + 1500);
    expect(waits[1]).toBeLessThan(800 + 1500);
    expect(await xcom(result.run.id, 'flaky')).toBe(3);
    expect(result.tasks.find((t) => t.taskId === 'never_retried')!.tryNumber).toBe(1);
  });

  it('fails a task at its execution timeout, whether or not it honours its signal', async () => {
    const started = Date.now();
    const result = await runDagToCompletion(setup.engine, 'timeouts');
    expect(states(result.tasks)).toEqual({ honours_signal: 'failed', ignores_signal: 'failed', quick: 'success' });
    expect(Date.now() - started).toBeLessThan(30_000);
    for (const taskId of ['honours_signal', 'ignores_signal']) {
      const ti = result.tasks.find((t) => t.taskId === taskId)!;
      const tryRow = await setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', ti.id).executeTakeFirstOrThrow();
      expect(tryRow.error).toMatchObject({ name: 'TaskTimeoutError', code: 'TASK_TIMEOUT' });
      expect(tryRow.error!.message).toBe(`DAG 'timeouts': task '${taskId}' timed out after 300 ms`);
      expect(tryRow.duration_ms).toBeLessThan(1_400);
    }
  });

  it('validates params against the schema: defaults applied, bad params rejected before any run exists', async () => {
    const result = await runDagToCompletion(setup.engine, 'with_params', { params: { county: 'king_wa' } });
    expect(result.state).toBe('success');
    expect(await xcom(result.run.id, 'echo')).toMatchObject({ county: 'king_wa', limit: 25, hasDates: true, runId: result.run.run_id });

    const before = await setup.engine.db.selectFrom('tributary.dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('dag_id', '=', 'with_params').executeTakeFirstOrThrow();
    const attempt = triggerDag(setup.engine.context, 'with_params', { params: { county: 'King County', limit: 0 } });
    await expect(attempt).rejects.toBeInstanceOf(ParamsValidationError);
    await expect(attempt).rejects.toThrow(/county must match pattern "\^\[a-z_\]\+\$"/);
    await expect(attempt).rejects.toThrow(/limit must be >= 1/);
    const after = await setup.engine.db.selectFrom('tributary.dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('dag_id', '=', 'with_params').executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
