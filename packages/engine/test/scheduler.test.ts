import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setDagPaused } from '../src/service/dags.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { claimTaskInstance } from '../src/scheduler/task-transitions.js';
import type { Worker } from '../src/worker/worker.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
let worker: Worker;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  worker = await setup.engine.startWorker({ concurrency: 4 });
  setup.engine.startScheduler();
});
afterAll(() => setup?.close());

describe('the scheduler', () => {
  it('with catchup creates exactly one run per missed interval, one running at a time', async () => {
    const db = setup.engine.db;
    const HOUR = 3_600_000;
    // The fixture starts three hours before the hour it was parsed in; should an hour begin before the
    // catchup is over, that interval is missed too: expect every interval up to the current hour.
    const version = await db.selectFrom('tributary.dag_version').select('serialized').where('dag_id', '=', 'hourly_catchup').executeTakeFirstOrThrow();
    const first = new Date(version.serialized.startDate!).getTime();
    let top = 0;
    // Sample how many runs are running while the catchup proceeds.
    let maxRunning = 0;
    const sampler = setInterval(() => {
      void sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = 'hourly_catchup' AND state = 'running'`
        .execute(db)
        .then((r) => (maxRunning = Math.max(maxRunning, r.rows[0]!.n)));
    }, 20);
    await setDagPaused(db, 'hourly_catchup', false);
    const runs = await eventually(async () => {
      const rows = await db.selectFrom('tributary.dag_run').selectAll().where('dag_id', '=', 'hourly_catchup').orderBy('logical_date').execute();
      top = Math.floor(Date.now() / HOUR) * HOUR;
      return rows.length === (top - first) / HOUR && rows.every((r) => r.state === 'success') ? rows : undefined;
    }, 20_000, 'a successful run for each missed interval');
    clearInterval(sampler);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.map((r) => [r.data_interval_start.getTime(), r.data_interval_end.getTime()])).toEqual(
      runs.map((_, i) => [first + i * HOUR, first + (i + 1) * HOUR]),
    );
    expect(runs.every((r) => r.run_type === 'scheduled' && r.logical_date.getTime() === r.data_interval_start.getTime())).toBe(true);
    expect(maxRunning).toBe(1);
    const dag = await db.selectFrom('tributary.dag').selectAll().where('dag_id', '=', 'hourly_catchup').executeTakeFirstOrThrow();
    expect(dag.next_logical_date!.getTime()).toBe(top);
    expect(dag.next_run_after!.getTime()).toBe(top + HOUR);
  });

  it('runs @continuous back to back: each run starts after the previous one ends, never two at once', async () => {
    const db = setup.engine.db;
    let maxActive = 0;
    const sampler = setInterval(() => {
      void sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = 'continuous' AND state IN ('queued', 'running')`
        .execute(db)
        .then((r) => (maxActive = Math.max(maxActive, r.rows[0]!.n)));
    }, 10);
    await setDagPaused(db, 'continuous', false);
    const runs = await eventually(async () => {
      const rows = await db.selectFrom('tributary.dag_run').selectAll().where('dag_id', '=', 'continuous').where('state', '=', 'success').orderBy('logical_date').execute();
      return rows.length >= 3 ? rows : undefined;
    }, 20_000, 'three continuous runs');
    await setDagPaused(db, 'continuous', true);
    clearInterval(sampler);
    expect(maxActive).toBe(1);
    const top = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    // The first interval starts at the start date; each next one where the previous ended.
    expect(runs[0]!.data_interval_start.getTime()).toBeGreaterThanOrEqual(top - 2 * 3_600_000);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.data_interval_start).toEqual(runs[i - 1]!.data_interval_end);
      expect(runs[i]!.start_date!.getTime()).toBeGreaterThanOrEqual(runs[i - 1]!.end_date!.getTime());
    }
  });

  it('runs fixed intervals from the start date, one run per complete interval', async () => {
    const db = setup.engine.db;
    await setDagPaused(db, 'every_hour', false);
    const runs = await eventually(async () => {
      const rows = await db.selectFrom('tributary.dag_run').selectAll().where('dag_id', '=', 'every_hour').orderBy('logical_date').execute();
      return rows.length === 2 && rows.every((r) => r.state === 'success') ? rows : undefined;
    }, 20_000, 'two fixed-interval runs');
    const firstStart = runs[0]!.data_interval_start.getTime();
    expect(runs.map((r) => [r.data_interval_start.getTime() - firstStart, r.data_interval_end.getTime() - firstStart])).toEqual([
      [0, 3_600_000],
      [3_600_000, 7_200_000],
    ]);
    const dag = await eventually(async () => {
      const row = await db.selectFrom('tributary.dag').selectAll().where('dag_id', '=', 'every_hour').executeTakeFirstOrThrow();
      return row.needs_next_run ? undefined : row;
    }, 5_000, 'the next run to be computed');
    expect(dag.schedule).toBe('every 1h');
    expect(dag.next_run_after!.getTime()).toBe(firstStart + 3 * 3_600_000);
  });

  it('fails a task instance whose worker stopped heart-beating, then retries it on a live worker', async () => {
    const db = setup.engine.db;
    await setup.engine.stopWorker(worker);
    const run = await triggerDag(setup.engine.context, 'slow');
    const ti = await eventually(
      () => db.selectFrom('tributary.task_instance').selectAll().where('run_pk', '=', run.id).where('state', '=', 'queued').executeTakeFirst(),
      5_000,
      'the task to be queued',
    );
    // A "worker" claims it and then vanishes without ever heart-beating again.
    const ghost = await claimTaskInstance(setup.engine.context, { tiId: ti.id, tryNumber: ti.try_number }, { id: 'ghost', hostname: 'gone', pid: 1, executor: 'local' });
    expect(ghost?.tryNumber).toBe(1);
    worker = await setup.engine.startWorker({ concurrency: 4 });
    expect(await waitForRun(db, run.id, { timeoutMs: 20_000 })).toBe('success');
    const tries = await db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', ti.id).orderBy('try_number').execute();
    expect(tries.map((t) => t.state)).toEqual(['failed', 'success']);
    expect(tries[0]!.error).toMatchObject({ name: 'HeartbeatTimeout' });
    expect(tries[0]!.error!.message).toContain('worker ghost on gone');
    // Detected within the heartbeat timeout (3 s here) plus a scheduler pass, not minutes later.
    expect(tries[0]!.end_date!.getTime() - tries[0]!.start_date.getTime()).toBeLessThan(3_000 + 1_500);
  });
});
