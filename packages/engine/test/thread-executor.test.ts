import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTaskLogs } from '../src/service/logs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [join(PACKAGE_DIR, 'test/fixtures/threads')], threadExecutor: { killGraceMs: 500 } });
});
afterAll(() => setup?.close());

async function xcom(runPk: number, taskId: string): Promise<unknown> {
  const rows = await sql<{ value: unknown }>`SELECT value FROM tributary.xcom WHERE run_pk = ${runPk} AND task_id = ${taskId}`.execute(setup.engine.db);
  return rows.rows[0]?.value;
}

async function errorsOf(tiId: number): Promise<{ state: string; error: { name: string; message: string; code?: string } | null }[]> {
  return setup.engine.db.selectFrom('tributary.task_try').select(['state', 'error']).where('ti_id', '=', tiId).orderBy('try_number').execute() as never;
}

describe('the thread executor', () => {
  it('runs task functions in a worker thread: params, upstream results, logs, console output, outlet extras and skips cross over', async () => {
    const result = await runDagToCompletion(setup.engine, 'thread_tasks', { params: { n: 5 } });
    expect(result.state).toBe('success');
    const state = Object.fromEntries(result.tasks.map((t) => [t.taskId, t.state]));
    expect(state).toEqual({ produce: 'success', consume: 'success', skipper: 'skipped', local_twin: 'success' });
    const produced = (await xcom(result.run.id, 'produce')) as { n: number; threadId: number; day: string };
    expect(produced.n).toBe(5);
    expect(produced.threadId).toBeGreaterThan(0);
    expect(produced.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await xcom(result.run.id, 'consume')).toEqual({ doubled: 10, inThread: true });
    expect(await xcom(result.run.id, 'local_twin')).toEqual({ threadId: 0 });
    const logs = (await getTaskLogs(setup.engine.db, { dagId: 'thread_tasks', runId: result.run.run_id, taskId: 'produce' })).map((l) => l.message).join('\n');
    expect(logs).toContain('producing in a thread {"n":5}');
    expect(logs).toContain(`printed from thread ${produced.threadId}`);
    expect(logs).toContain('with the thread executor');
    const events = await sql<{ extra: unknown }>`SELECT e.extra FROM tributary.asset_event e JOIN tributary.asset a ON a.id = e.asset_id WHERE a.uri = 'file://listings'`.execute(setup.engine.db);
    expect(events.rows.map((r) => r.extra)).toEqual([{ rows: 5 }]);
  });

  it('contains a task that exhausts its heap, exits its thread or spins past its timeout; the worker runs the next task', async () => {
    const result = await runDagToCompletion(setup.engine, 'thread_faults');
    const byId = Object.fromEntries(result.tasks.map((t) => [t.taskId, t]));
    expect(byId.after!.state).toBe('success');
    expect(await xcom(result.run.id, 'after')).toBe('the worker carried on');

    const leak = await errorsOf(byId.leak!.id);
    expect(leak.map((t) => t.state)).toEqual(['failed', 'failed']); // retried once, out of memory both times
    expect(leak[0]!.error).toMatchObject({ message: "DAG 'thread_faults': task 'leak' ran out of memory (the thread's heap limit is 32 MB) and its thread was stopped" });

    const exit = await errorsOf(byId.exit!.id);
    expect(exit[0]!.error!.message).toBe("DAG 'thread_faults': task 'exit' ended its thread (process.exit(3) or a fatal error)");

    const spin = await errorsOf(byId.spin!.id);
    expect(spin[0]!.error).toMatchObject({ name: 'TaskTimeoutError' });
    expect(byId.spin!.endDate!.getTime() - byId.spin!.startDate!.getTime()).toBeLessThan(5_000);
  });
});
