import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRun, clearTaskInstances, markTaskInstances, pauseDag } from '../src/service/actions.js';
import { listTaskInstances, triggerDag, waitForRun } from '../src/service/runs.js';
import type { Actor } from '../src/service/audit.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';

const actor: Actor = { name: 'ops-alice', origin: 'test' };
let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
});
afterAll(() => setup?.close());

const states = async (runPk: number) => Object.fromEntries((await listTaskInstances(setup.engine.db, runPk)).map((t) => [t.taskId, t.state]));

describe('operator actions', () => {
  it('clear with downstream re-runs a failed task and what it blocked, and the run succeeds', async () => {
    const run = await triggerDag(setup.engine.context, 'recoverable');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 15_000 })).toBe('failed');
    expect(await states(run.id)).toEqual({ first: 'success', fragile: 'failed', last: 'upstream_failed' });

    const cleared = await clearTaskInstances(setup.engine.context, { dagId: 'recoverable', runId: run.run_id, taskIds: ['fragile'], downstream: true }, actor);
    expect(cleared.map((c) => [c.taskId, c.previousState])).toEqual([['fragile', 'failed'], ['last', 'upstream_failed']]);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 15_000 })).toBe('success');
    expect(await states(run.id)).toEqual({ first: 'success', fragile: 'success', last: 'success' });
    const fragile = (await listTaskInstances(setup.engine.db, run.id)).find((t) => t.taskId === 'fragile')!;
    expect(fragile.tryNumber).toBe(2);
    const audit = await setup.engine.db.selectFrom('tributary.audit_log').selectAll().where('action', '=', 'clear').execute();
    expect(audit).toEqual([expect.objectContaining({ actor: 'ops-alice', origin: 'test', dag_id: 'recoverable', run_id: run.run_id })]);
    expect(audit[0]!.details).toMatchObject({ tasks: ['fragile', 'last'], downstream: true });
  });

  it('clearing only the failed instance of a mapped task re-runs it alone, keeping its map index', async () => {
    const run = await triggerDag(setup.engine.context, 'mapped_flaky');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 15_000 })).toBe('failed');
    const cleared = await clearTaskInstances(setup.engine.context, { dagId: 'mapped_flaky', runId: run.run_id, onlyFailed: true }, actor);
    expect(cleared.map((c) => [c.taskId, c.mapIndex, c.previousState])).toEqual([['flaky', 1, 'failed'], ['total', -1, 'upstream_failed']]);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 15_000 })).toBe('success');
    const instances = await listTaskInstances(setup.engine.db, run.id);
    expect(Object.fromEntries(instances.map((t) => [`${t.taskId}[${t.mapIndex}]`, [t.state, t.tryNumber]]))).toEqual({
      'flaky[0]': ['success', 1],
      'flaky[1]': ['success', 2],
      'flaky[2]': ['success', 1],
      'total[-1]': ['success', 1],
    });
    const total = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', run.id).where('task_id', '=', 'total').executeTakeFirstOrThrow();
    expect(total.value).toEqual([10, 20, 30]);
  });

  it('mark success unblocks downstream tasks that were waiting', async () => {
    await pauseDag(setup.engine.context, 'recoverable', true, actor);
    const run = await triggerDag(setup.engine.context, 'recoverable');
    // Paused: the run is created queued and nothing starts.
    expect(run.state).toBe('queued');
    await pauseDag(setup.engine.context, 'recoverable', false, actor);
    await eventually(async () => (await states(run.id)).fragile === 'failed', 10_000, 'fragile to fail');
    await markTaskInstances(setup.engine.context, { dagId: 'recoverable', runId: run.run_id, taskIds: ['fragile'] }, 'success', actor);
    // `last` was already upstream_failed: marking does not re-run it; clearing it does.
    await clearTaskInstances(setup.engine.context, { dagId: 'recoverable', runId: run.run_id, taskIds: ['last'] }, actor);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 15_000 })).toBe('success');
    expect(await states(run.id)).toEqual({ first: 'success', fragile: 'success', last: 'success' });
  });

  it('cancel stops a running task on its worker, skips the rest and fails the run', async () => {
    const run = await triggerDag(setup.engine.context, 'busy');
    const long = await eventually(async () => (await listTaskInstances(setup.engine.db, run.id)).find((t) => t.taskId === 'long' && t.state === 'running'), 10_000, 'long to run');
    const changed = await cancelRun(setup.engine.context, 'busy', run.run_id, actor);
    expect(changed.map((c) => [c.taskId, c.previousState])).toEqual([['long', 'running'], ['after_long', null]]);
    expect(await states(run.id)).toEqual({ long: 'failed', after_long: 'skipped' });
    const tryRow = await setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', long.id).executeTakeFirstOrThrow();
    expect(tryRow.state).toBe('failed');
    expect(tryRow.error).toMatchObject({ name: 'ExternalStateChange', message: 'run cancelled by ops-alice' });
    // The worker notices at its next heartbeat and frees the slot.
    const worker = await eventually(async () => {
      const row = await setup.engine.db.selectFrom('tributary.task_instance').select('id').where('state', '=', 'running').executeTakeFirst();
      return row === undefined ? true : undefined;
    }, 5_000, 'the worker to stop the task');
    expect(worker).toBe(true);
    await expect(cancelRun(setup.engine.context, 'busy', run.run_id, actor)).rejects.toThrow(`run '${run.run_id}' already finished (failed)`);
  });
});
