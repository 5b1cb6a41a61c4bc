import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TriggerRule } from '../src/dag/types.js';
import { createRun } from '../src/scheduler/run-lifecycle.js';
import { clearTaskInstances } from '../src/service/actions.js';
import { listTaskInstances, triggerDag, waitForRun } from '../src/service/runs.js';
import { setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
});
afterAll(() => setup?.close());

async function run(dagId: string, params?: Record<string, unknown>) {
  const created = await triggerDag(setup.engine.context, dagId, { params });
  const state = await waitForRun(setup.engine.db, created.id, { timeoutMs: 30_000 });
  const tasks = await listTaskInstances(setup.engine.db, created.id);
  return { run: created, state, states: Object.fromEntries(tasks.map((t) => [t.taskId, t.state])), tasks };
}

async function result(runPk: number, taskId: string): Promise<unknown> {
  const rows = await sql<{ value: unknown }>`
    SELECT value FROM tributary.xcom WHERE run_pk = ${runPk} AND task_id = ${taskId} AND key = 'return_value'`.execute(setup.engine.db);
  return rows.rows[0]?.value;
}

// Airflow's outcome of each trigger rule for upstream states (a, b), b skipped by the branch. As in
// Airflow, rules settle as soon as the states seen allow: all_success is skipped the moment b is
// skipped, before a fails.
const S = 'success';
const K = 'skipped';
const F = 'upstream_failed';
const EXPECTED: Record<TriggerRule, [string, string, string]> = {
  //                             a success, b skipped | both skipped | a failed, b skipped
  all_success:                 [K, K, K],
  all_failed:                  [K, K, K],
  all_done:                    [S, S, S],
  all_done_min_one_success:    [K, K, K],
  all_done_setup_success:      [S, S, S],
  one_success:                 [S, K, F],
  one_failed:                  [K, K, S],
  one_done:                    [S, K, S],
  none_failed:                 [S, S, F],
  none_skipped:                [K, K, K],
  none_failed_min_one_success: [S, K, F],
  all_skipped:                 [K, S, K],
  always:                      [S, S, S],
};

describe('branching', () => {
  it.each([
    ['a', 0, { branch: 'success', a: 'success', b: 'skipped', after_b: 'skipped', direct_join: 'success' }],
    ['none', 1, { branch: 'success', a: 'skipped', b: 'skipped', after_b: 'skipped', direct_join: 'skipped' }],
    ['a_fails', 2, { branch: 'success', a: 'failed', b: 'skipped', after_b: 'skipped', direct_join: 'upstream_failed' }],
  ] as const)('with choice %s, every trigger rule settles as Airflow decides', async (choice, column, fixed) => {
    const outcome = await run('branching_rules', { choice });
    expect(outcome.states).toMatchObject(fixed);
    const joins = Object.fromEntries(Object.entries(EXPECTED).map(([rule, states]) => [`join_${rule}`, states[column]]));
    expect(Object.fromEntries(Object.keys(joins).map((id) => [id, outcome.states[id]]))).toEqual(joins);
    expect(await result(outcome.run.id, 'branch')).toEqual(choice === 'none' ? [] : ['a']);
  });

  it("follows a group a branch chose (its root tasks) and skips the other group's", async () => {
    const outcome = await run('grouped', { mode: 'fast' });
    expect(outcome.state).toBe('success');
    expect(outcome.states).toMatchObject({ pick: 'success', 'fast.one': 'success', 'slow.one': 'skipped', 'slow.two': 'skipped', end: 'success' });
    expect(await result(outcome.run.id, 'end')).toEqual(['fast.one']);
  });
});

describe('short-circuit and latest-only', () => {
  it('a falsy short-circuit skips everything downstream, or only its direct downstream tasks', async () => {
    const stopped = await run('short_circuits', { go: false });
    expect(stopped.state).toBe('success');
    expect(stopped.states).toEqual({ skip_all: 'success', x1: 'skipped', y1: 'skipped', skip_direct: 'success', x2: 'skipped', y2: 'success', z2: 'skipped' });
    const going = await run('short_circuits', { go: true });
    expect(Object.values(going.states).every((s) => s === 'success')).toBe(true);
  });

  it('latest-only lets manual runs through and skips downstream tasks of an old scheduled run', async () => {
    await setup.engine.db.updateTable('tributary.dag').set({ is_paused: false }).where('dag_id', '=', 'latest_only_report').execute();
    const manual = await run('latest_only_report');
    expect(manual.states).toEqual({ latest_only: 'success', report: 'success', archive: 'success' });
    const old = await createRun(setup.engine.context, {
      dagId: 'latest_only_report',
      runType: 'scheduled',
      logicalDate: new Date('2024-01-01T00:00:00Z'),
      dataInterval: { start: new Date('2024-01-01T00:00:00Z'), end: new Date('2024-01-02T00:00:00Z') },
    });
    expect(await waitForRun(setup.engine.db, old.id, { timeoutMs: 30_000 })).toBe('success');
    const states = Object.fromEntries((await listTaskInstances(setup.engine.db, old.id)).map((t) => [t.taskId, t.state]));
    expect(states).toEqual({ latest_only: 'success', report: 'skipped', archive: 'success' });
    expect(await result(old.id, 'latest_only')).toBe(false);
  });
});

describe('task groups', () => {
  it('prefixes ids and orders whole groups after their upstream tasks', async () => {
    const outcome = await run('grouped', { mode: 'slow' });
    expect(outcome.state).toBe('success');
    expect(outcome.states).toMatchObject({
      start: 'success',
      'extract.download': 'success',
      'extract.unzip': 'success',
      'extract.checksum': 'success',
      'transform.clean.trim': 'success',
      'transform.clean.dedupe': 'success',
      'fast.one': 'skipped',
      'slow.one': 'success',
      'slow.two': 'success',
    });
    const at = Object.fromEntries(outcome.tasks.map((t) => [t.taskId, t]));
    const end = (id: string) => at[id]!.endDate!.getTime();
    const begin = (id: string) => at[id]!.startDate!.getTime();
    expect(begin('extract.download')).toBeGreaterThanOrEqual(end('start'));
    expect(begin('extract.checksum')).toBeGreaterThanOrEqual(end('start'));
    expect(begin('transform.clean.trim')).toBeGreaterThanOrEqual(Math.max(end('extract.unzip'), end('extract.checksum')));
    expect(await result(outcome.run.id, 'end')).toEqual(['slow.one', 'slow.two']);
    expect(await result(outcome.run.id, 'extract.unzip')).toBe('raw-unzipped');
  });
});

describe('setup and teardown', () => {
  it('tears down after failed work, and the run fails for the work, not the teardown', async () => {
    const outcome = await run('with_resources', { workFails: true });
    expect(outcome.states).toEqual({ create_cluster: 'success', work: 'failed', delete_cluster: 'success' });
    expect(outcome.state).toBe('failed');
  });

  it("ignores a teardown's failure for the run's outcome unless it is told to fail the run", async () => {
    const lenient = await run('with_resources', { teardownFails: true });
    expect(lenient.states).toEqual({ create_cluster: 'success', work: 'success', delete_cluster: 'failed' });
    expect(lenient.state).toBe('success');
    const strict = await run('with_resources_strict', { teardownFails: true });
    expect(strict.states).toEqual({ create_cluster: 'success', work: 'success', delete_cluster: 'failed' });
    expect(strict.state).toBe('failed');
  });

  it('does not tear down what a failed setup never created', async () => {
    const outcome = await run('with_resources', { setupFails: true });
    expect(outcome.states).toEqual({ create_cluster: 'failed', work: 'upstream_failed', delete_cluster: 'upstream_failed' });
    expect(outcome.state).toBe('failed');
  });

  it('clearing the work clears and re-runs its setup and teardown too', async () => {
    const first = await run('with_resources');
    expect(first.state).toBe('success');
    const cleared = await clearTaskInstances(
      setup.engine.context,
      { dagId: 'with_resources', runId: first.run.run_id, taskIds: ['work'] },
      { name: 'ops', origin: 'test' },
    );
    expect(cleared.map((c) => c.taskId)).toEqual(['create_cluster', 'work', 'delete_cluster']);
    expect(await waitForRun(setup.engine.db, first.run.id, { timeoutMs: 30_000 })).toBe('success');
    const tasks = await listTaskInstances(setup.engine.db, first.run.id);
    expect(tasks.map((t) => [t.taskId, t.state, t.tryNumber])).toEqual([
      ['create_cluster', 'success', 2],
      ['work', 'success', 2],
      ['delete_cluster', 'success', 2],
    ]);
    const work = tasks.find((t) => t.taskId === 'work')!;
    const create = tasks.find((t) => t.taskId === 'create_cluster')!;
    expect(work.startDate!.getTime()).toBeGreaterThanOrEqual(create.endDate!.getTime());
  });
});
