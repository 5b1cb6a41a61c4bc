import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/schema.js';
import type { Tributary } from '../src/engine.js';
import { createPool } from '../src/service/pools.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { openTestEngine } from '../src/testing/index.js';
import { FIXTURE_DAGS, PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
/** A second engine on the same database: a second scheduler and more workers, as another machine would run. */
let other: Tributary;
const actor = { name: 'test', origin: 'test' };

beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  other = await openTestEngine({ projectDir: PACKAGE_DIR, dagsFolders: [FIXTURE_DAGS], databaseUrl: setup.database.url });
  setup.engine.startScheduler();
  other.startScheduler();
  await setup.engine.startWorker({ concurrency: 4 });
  await setup.engine.startWorker({ concurrency: 3 });
  await other.startWorker({ concurrency: 4 });
});
afterAll(async () => {
  await other?.close();
  await setup?.close();
});

/**
 * Run `query` (one statement: one consistent snapshot) in a loop while `work` runs and return the
 * largest value it saw.
 */
async function sampleMax(db: Kysely<Database>, query: ReturnType<typeof sql<{ n: number }>>, work: () => Promise<unknown>): Promise<number> {
  let max = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const rows = await query.execute(db);
      for (const row of rows.rows) max = Math.max(max, row.n);
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await sampler;
  }
  return max;
}

async function runAll(dagIds: string[], runsEach: number): Promise<void> {
  const runs = [];
  for (let r = 0; r < runsEach; r++) for (const dagId of dagIds) runs.push(await triggerDag(setup.engine.context, dagId));
  const states = await Promise.all(runs.map((run) => waitForRun(setup.engine.db, run.id, { timeoutMs: 90_000 })));
  expect(states.every((s) => s === 'success')).toBe(true);
}

describe('concurrency limits with two schedulers and three workers', () => {
  it('never puts more slots of a pool in use than it has, with tasks of several DAGs taking 1 or 2 slots', async () => {
    await createPool(setup.engine.context, { name: 'shared', slots: 3 }, actor);
    const max = await sampleMax(
      setup.engine.db,
      sql<{ n: number }>`SELECT coalesce(sum(pool_slots), 0)::int AS n FROM tributary.task_instance WHERE pool = 'shared' AND state IN ('queued', 'running')`,
      () => runAll(['pool_load_1', 'pool_load_2', 'pool_load_3'], 3),
    );
    // Full, never over.
    expect(max).toBe(3);
    const ran = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE pool = 'shared' AND state = 'success'`.execute(setup.engine.db);
    expect(ran.rows[0]!.n).toBe(3 * 3 * 12);
  });

  it('holds maxActiveTasks across the runs of a DAG, mapped instances included', async () => {
    const max = await sampleMax(
      setup.engine.db,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE dag_id = 'dag_task_limit' AND state IN ('queued', 'running')`,
      () => runAll(['dag_task_limit'], 4),
    );
    // Full, never over (what the limit counts: queued or running).
    expect(max).toBe(3);
    // Every try that ran: at the start of each, at most 3 tries of the DAG were running (the times
    // are the database's, so a try that started after another ended cannot appear to overlap it).
    const overlap = await sql<{ n: number }>`
      SELECT coalesce(max(n), 0)::int AS n FROM (
        SELECT a.ti_id, a.try_number, count(*) AS n FROM tributary.task_try a JOIN tributary.task_instance ta ON ta.id = a.ti_id
          JOIN tributary.task_try b ON b.start_date <= a.start_date AND b.end_date > a.start_date
          JOIN tributary.task_instance tb ON tb.id = b.ti_id
         WHERE ta.dag_id = 'dag_task_limit' AND tb.dag_id = 'dag_task_limit'
         GROUP BY a.ti_id, a.try_number) running`.execute(setup.engine.db);
    expect(overlap.rows[0]!.n).toBeLessThanOrEqual(3);
    const ran = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE dag_id = 'dag_task_limit' AND state = 'success'`.execute(setup.engine.db);
    expect(ran.rows[0]!.n).toBe(4 * (1 + 6 + 6));
  });

  it('holds maxActiveInstancesPerRun for a mapped task without holding back the other tasks of its DAG', async () => {
    let maxLimited = 0;
    const max = await sampleMax(
      setup.engine.db,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance
                          WHERE dag_id = 'task_limit_per_run' AND task_id = 'limited' AND state IN ('queued', 'running') GROUP BY run_pk`,
      () => runAll(['task_limit_per_run'], 2),
    );
    maxLimited = max;
    expect(maxLimited).toBe(2);
    // The lower-priority tasks did not wait for the capped one: each run's free tasks all started
    // before its third limited instance (which needs one of the first two to finish).
    const starts = await sql<{ run_pk: number; task_id: string; map_index: number; start_date: Date }>`
      SELECT t.run_pk, t.task_id, t.map_index, tt.start_date FROM tributary.task_instance t
        JOIN tributary.task_try tt ON tt.ti_id = t.id
       WHERE t.dag_id = 'task_limit_per_run' ORDER BY tt.start_date`.execute(setup.engine.db);
    for (const runPk of new Set(starts.rows.map((r) => r.run_pk))) {
      const ofRun = starts.rows.filter((r) => r.run_pk === runPk);
      const thirdLimited = ofRun.filter((r) => r.task_id === 'limited')[2]!.start_date.getTime();
      const free = ofRun.filter((r) => r.task_id.startsWith('free_'));
      expect(free).toHaveLength(4);
      expect(free.every((r) => r.start_date.getTime() < thirdLimited)).toBe(true);
    }
  });

  it('holds maxActiveInstances across the runs of a DAG', async () => {
    const max = await sampleMax(
      setup.engine.db,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance
                          WHERE dag_id = 'task_limit_across_runs' AND task_id = 'single' AND state IN ('queued', 'running')`,
      () => runAll(['task_limit_across_runs'], 5),
    );
    expect(max).toBe(1);
    // Its sibling without a limit ran in parallel across the runs.
    const overlap = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tributary.task_try a JOIN tributary.task_instance ta ON ta.id = a.ti_id,
             tributary.task_try b JOIN tributary.task_instance tb ON tb.id = b.ti_id
       WHERE ta.dag_id = 'task_limit_across_runs' AND tb.dag_id = 'task_limit_across_runs'
         AND ta.task_id = 'single' AND tb.task_id = 'single' AND a.ti_id < b.ti_id
         AND a.start_date < b.end_date AND b.start_date < a.end_date`.execute(setup.engine.db);
    expect(overlap.rows[0]!.n).toBe(0);
  });

  it('queues by effective priority: downstream, upstream and absolute weight rules', async () => {
    await createPool(setup.engine.context, { name: 'serial', slots: 1 }, actor);
    const run = await triggerDag(setup.engine.context, 'priority_order');
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    const rows = await sql<{ task_id: string; priority_weight: number }>`
      SELECT t.task_id, t.priority_weight FROM tributary.task_instance t JOIN tributary.task_try tt ON tt.ti_id = t.id
       WHERE t.run_pk = ${run.id} ORDER BY tt.start_date, t.id`.execute(setup.engine.db);
    expect(Object.fromEntries(rows.rows.map((r) => [r.task_id, r.priority_weight]))).toEqual({
      hub: 31, // its own 1 + three leaves of 10 below it
      leaf1: 10,
      leaf2: 10,
      leaf3: 10,
      mid: 20,
      low: 5,
      u1: 2,
      u2: 4, // its own 2 + u1 above it
    });
    // One slot: each next task is the highest-priority one ready (ties by task order).
    expect(rows.rows.map((r) => r.task_id)).toEqual(['hub', 'mid', 'leaf1', 'leaf2', 'leaf3', 'low', 'u1', 'u2']);
  });
});
