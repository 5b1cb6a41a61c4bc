import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTaskLogs } from '../src/service/logs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ maxMapLength: 1000 });
});
afterAll(() => setup?.close());

async function xcom(runPk: number, taskId: string, mapIndex = -1): Promise<unknown> {
  const rows = await sql<{ value: unknown }>`
    SELECT value FROM tributary.xcom WHERE run_pk = ${runPk} AND task_id = ${taskId} AND map_index = ${mapIndex} AND key = 'return_value'`.execute(setup.engine.db);
  return rows.rows[0]?.value;
}

const byTask = (tasks: { taskId: string; mapIndex: number; state: string | null }[]) => {
  const result: Record<string, (string | null)[]> = {};
  for (const t of tasks) (result[t.taskId] ??= [])[Math.max(0, t.mapIndex)] = t.state;
  return result;
};

describe('dynamic task mapping', () => {
  it('runs one instance per element of literal lists (their product), with fixed args, and hands the results on in order', async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_literal');
    expect(result.state).toBe('success');
    const multiply = result.tasks.filter((t) => t.taskId === 'multiply');
    expect(multiply.map((t) => t.mapIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(multiply.every((t) => t.state === 'success')).toBe(true);
    expect(await xcom(result.run.id, 'multiply', 3)).toEqual({ value: -20, mapIndex: 3 });
    expect(await xcom(result.run.id, 'collect')).toEqual({
      values: [10, -10, 20, -20, 30, -30],
      indexes: [0, 1, 2, 3, 4, 5],
      echoed: ['alpha', 'beta'],
    });
  });

  it('maps over an upstream result, and over a mapped result in turn', async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_upstream', { params: { n: 4 } });
    expect(result.state).toBe('success');
    expect(byTask(result.tasks)).toMatchObject({ double: ['success', 'success', 'success', 'success'], plus_one: ['success', 'success', 'success', 'success'] });
    expect(await xcom(result.run.id, 'total')).toEqual({ count: 4, sum: 1 + 3 + 5 + 7 });
    expect(await xcom(result.run.id, 'after_all')).toBe(4);
  });

  it('skips a mapped task whose input is empty, and its downstream tasks by their trigger rules', async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_upstream', { params: { n: 0 } });
    expect(result.state).toBe('success');
    expect(byTask(result.tasks)).toEqual({
      numbers: ['success'],
      double: ['skipped'],
      plus_one: ['skipped'],
      total: ['skipped'],
      after_all: ['success'],
    });
    expect(await xcom(result.run.id, 'after_all')).toBe(0);
  });

  it('maps over 1,000 elements', async () => {
    const started = performance.now();
    const result = await runDagToCompletion(setup.engine, 'mapped_upstream', { params: { n: 1000 }, timeoutMs: 240_000 });
    const seconds = (performance.now() - started) / 1000;
    expect(result.state).toBe('success');
    expect(result.tasks.filter((t) => t.taskId === 'double' && t.state === 'success')).toHaveLength(1000);
    expect(result.tasks.filter((t) => t.taskId === 'plus_one' && t.state === 'success')).toHaveLength(1000);
    expect(await xcom(result.run.id, 'total')).toEqual({ count: 1000, sum: 1000 * 1000 });
    console.log(`mapping 2 x 1000 instances took ${seconds.toFixed(1)} s`);
  }, 300_000);

  it("fails a mapped task longer than the engine's cap, naming the DAG, task, length and cap", async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_upstream', { params: { n: 1001 } });
    expect(result.state).toBe('failed');
    expect(byTask(result.tasks)).toMatchObject({ numbers: ['success'], double: ['failed'], plus_one: ['upstream_failed'], total: ['upstream_failed'] });
    const double = result.tasks.find((t) => t.taskId === 'double')!;
    const tries = await setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', double.id).execute();
    expect(tries[0]!.error).toMatchObject({
      code: 'MAP_TOO_LONG',
      message:
        "DAG 'mapped_upstream': task 'double': cannot expand into 1001 instances: over the map length cap of 1000 " +
        "(the engine's maxMapLength; a task may set its own maxMapLength)",
    });
    const logs = await getTaskLogs(setup.engine.db, { dagId: 'mapped_upstream', runId: result.run.run_id, taskId: 'double' });
    expect(logs.map((l) => l.message)).toEqual([expect.stringContaining('Mapping failed: ')]);
  });

  it("fails a mapped task over its own cap, or over a result that is not a list", async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_capped');
    expect(result.state).toBe('failed');
    expect(byTask(result.tasks)).toMatchObject({ capped: ['failed'], downstream: ['upstream_failed'], not_a_list: ['failed'] });
    const errors = await sql<{ task_id: string; error: { message: string } }>`
      SELECT t.task_id, tt.error FROM tributary.task_try tt JOIN tributary.task_instance t ON t.id = tt.ti_id
       WHERE t.run_pk = ${result.run.id} AND tt.state = 'failed' ORDER BY t.task_id`.execute(setup.engine.db);
    expect(errors.rows.map((r) => r.error.message)).toEqual([
      "DAG 'mapped_capped': task 'capped': cannot expand into 5 instances: over the map length cap of 3 (the task's maxMapLength option)",
      "DAG 'mapped_capped': task 'not_a_list': expand 'x' maps over the result of task 'object', which must be an array, got object",
    ]);
  });

  it('lets one failed instance fail all_success downstream while all_done downstream gets the other results', async () => {
    const result = await runDagToCompletion(setup.engine, 'mapped_partial');
    expect(result.state).toBe('failed');
    expect(byTask(result.tasks)).toEqual({ risky: ['success', 'failed', 'success'], strict: ['upstream_failed'], lenient: ['success'] });
    expect(await xcom(result.run.id, 'lenient')).toEqual([1, 3]);
  });
});
