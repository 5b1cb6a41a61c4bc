import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerDag } from '../src/service/runs.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  // Heartbeats every 20 ms: each one races the claims and finishes of tasks around it.
  setup = await setupEngine({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 5_000 });
  await setup.engine.parseDags();
  await setup.engine.db.updateTable('tributary.pool').set({ slots: -1 }).where('name', '=', 'default_pool').execute();
  setup.engine.startScheduler();
  await setup.engine.startWorker({ concurrency: 16 });
});
afterAll(() => setup?.close());

describe('the worker', () => {
  it('never aborts a task it is running because of a heartbeat racing its claim', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => triggerDag(setup.engine.context, 'small_diamond', { runId: `r${i}` })));
    await eventually(async () => {
      const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = 'small_diamond' AND state IN ('queued', 'running')`.execute(setup.engine.db);
      return left.rows[0]!.n === 0;
    }, 40_000, 'every run to finish');
    const cancelled = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_try WHERE error->>'name' = 'TaskCancelledError'`.execute(setup.engine.db);
    const runs = await setup.engine.db.selectFrom('tributary.dag_run').select('state').where('dag_id', '=', 'small_diamond').execute();
    expect(cancelled.rows[0]!.n).toBe(0);
    expect(runs.filter((r) => r.state !== 'success')).toEqual([]);
    expect(runs).toHaveLength(60);
  });
});
