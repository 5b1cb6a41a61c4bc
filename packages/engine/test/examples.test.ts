import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../src/scheduler/run-lifecycle.js';
import { getTaskLogs } from '../src/service/logs.js';
import { getTaskInstance } from '../src/service/run-queries.js';
import { listTaskInstances, waitForRun, type TaskInstanceSummary } from '../src/service/runs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [join(PACKAGE_DIR, 'examples')] });
});
afterAll(() => setup?.close());

const byTask = (tasks: TaskInstanceSummary[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t]));
const statesOf = (tasks: TaskInstanceSummary[]) => Object.fromEntries(tasks.map((t) => [t.taskId, t.state]));

/** The results a task's instances returned, in map-index order. */
async function results(runPk: number, taskId: string): Promise<unknown[]> {
  const rows = await setup.engine.db
    .selectFrom('tributary.xcom')
    .select('value')
    .where('run_pk', '=', runPk)
    .where('task_id', '=', taskId)
    .where('key', '=', 'return_value')
    .orderBy('map_index')
    .execute();
  return rows.map((r) => r.value);
}

/** A scheduled run of a past daily interval (as the scheduler or a backfill would create it), run by a worker of its own. */
async function runScheduledDay(dagId: string, day: string): Promise<{ state: string; tasks: TaskInstanceSummary[] }> {
  const queue = `examples-${dagId}`;
  const worker = await setup.engine.startWorker({ queues: [queue] });
  try {
    const start = new Date(`${day}T00:00:00Z`);
    const run = await createRun(setup.engine.context, {
      dagId,
      runType: 'scheduled',
      logicalDate: start,
      dataInterval: { start, end: new Date(start.getTime() + 86_400_000) },
      queueOverride: queue,
    });
    const state = await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 });
    return { state, tasks: await listTaskInstances(setup.engine.db, run.id) };
  } finally {
    await setup.engine.stopWorker(worker);
    await setup.engine.deleteQueue(queue).catch(() => {});
  }
}

describe('the shipped examples', () => {
  it.each(['hello_world', 'example_etl', 'example_fan_out_fan_in', 'example_scheduled_report', 'example_cron_seconds', 'example_every_6h', 'example_continuous', 'example_sensors', 'example_concurrency', 'example_assets_producer', 'example_assets_consumer', 'example_assets_either', 'example_templates', 'example_callbacks', 'example_branching', 'example_task_groups', 'example_setup_teardown', 'example_dynamic_mapping'])('%s succeeds under dags test', async (dagId) => {
    const result = await runDagToCompletion(setup.engine, dagId);
    expect(result.state).toBe('success');
  });

  it('example_templates rendered its arguments, and example_callbacks ran its callbacks into the try logs', async () => {
    const templated = await runDagToCompletion(setup.engine, 'example_templates', { params: { county: 'travis' }, logicalDate: new Date('2024-05-01T00:00:00Z') });
    const load = await getTaskInstance(setup.engine.db, { dagId: 'example_templates', runId: templated.run.run_id, taskId: 'load' });
    expect(load.renderedArgs).toEqual({
      target: 's3://warehouse/travis/20240501.parquet',
      week: '2024-05-01 to 2024-05-07',
      files: ['travis-1.csv', 'travis-2.csv'],
      limit: 100,
      mode: 'full',
    });
    const called = await runDagToCompletion(setup.engine, 'example_callbacks');
    const lines = await getTaskLogs(setup.engine.db, { dagId: 'example_callbacks', runId: called.run.run_id, taskId: 'flaky' });
    expect(lines.map((l) => l.message)).toContainEqual(expect.stringMatching(/^task retry: up_for_retry/));
  });

  it('example_sensors waited in reschedule mode and passed the export to the load', async () => {
    const result = await runDagToCompletion(setup.engine, 'example_sensors');
    expect(result.state).toBe('success');
    const waited = await setup.engine.db
      .selectFrom('tributary.task_reschedule as r')
      .innerJoin('tributary.task_instance as t', 't.id', 'r.ti_id')
      .select(['t.task_id', 't.try_number'])
      .where('t.run_pk', '=', result.run.id)
      .execute();
    expect(waited.some((w) => w.task_id === 'wait_for_settling')).toBe(true);
    expect(waited.every((w) => w.try_number === 1)).toBe(true);
    const load = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', result.run.id).where('task_id', '=', 'load').executeTakeFirstOrThrow();
    expect(load.value).toMatchObject({ loaded: expect.stringContaining('tributary-example-sensors') });
  });

  it('example_etl retried its flaky extract, skipped the failure alert and ran the cleanup', async () => {
    const result = await runDagToCompletion(setup.engine, 'example_etl');
    const byId = Object.fromEntries(result.tasks.map((t) => [t.taskId, t]));
    expect(byId.extract).toMatchObject({ state: 'success', tryNumber: 2 });
    expect(byId.alert_on_failure!.state).toBe('skipped');
    expect(byId.cleanup!.state).toBe('success');
  });

  it('example_branching skips the load not chosen, short-circuits an empty feed, and emails only from the latest run', async () => {
    const incremental = await runDagToCompletion(setup.engine, 'example_branching', { logicalDate: new Date('2024-05-14T00:00:00Z') });
    expect(incremental.state).toBe('success');
    expect(statesOf(incremental.tasks)).toEqual({
      check_feed: 'success',
      any_new_listings: 'success',
      choose_load: 'success',
      full_reload: 'skipped',
      incremental_load: 'success',
      publish: 'success',
      latest_only: 'success',
      email_subscribers: 'success',
    });
    expect(await results(incremental.run.id, 'choose_load')).toEqual([['incremental_load']]);
    expect(await results(incremental.run.id, 'publish')).toEqual([{ mode: 'incremental', rows: 3 }]);

    // Nothing new: the short-circuit skips everything below it, the join's trigger rule notwithstanding.
    const empty = await runDagToCompletion(setup.engine, 'example_branching', { params: { newListings: 0 } });
    expect(empty.state).toBe('success');
    expect(statesOf(empty.tasks)).toMatchObject({ check_feed: 'success', any_new_listings: 'success' });
    expect(empty.tasks.filter((t) => !['check_feed', 'any_new_listings'].includes(t.taskId)).every((t) => t.state === 'skipped')).toBe(true);

    // A past scheduled run (the 1st of the month: a full reload) refreshes the data but sends no email.
    const past = await runScheduledDay('example_branching', '2024-01-01');
    expect(past.state).toBe('success');
    expect(statesOf(past.tasks)).toMatchObject({ full_reload: 'success', incremental_load: 'skipped', publish: 'success', latest_only: 'success', email_subscribers: 'skipped' });
  });

  it('example_task_groups prefixes ids and runs whole groups after their upstream tasks and groups', async () => {
    const result = await runDagToCompletion(setup.engine, 'example_task_groups');
    expect(result.state).toBe('success');
    const at = byTask(result.tasks);
    expect(Object.keys(at).sort()).toEqual([
      'checks.listings.duplicates',
      'checks.listings.prices',
      'ingest.download_county',
      'ingest.download_mls',
      'ingest.merge',
      'publish',
      'start',
    ]);
    expect(result.tasks.every((t) => t.state === 'success')).toBe(true);
    const begin = (id: string) => at[id]!.startDate!.getTime();
    const end = (id: string) => at[id]!.endDate!.getTime();
    // start → whole ingest group → whole checks group → publish.
    expect(Math.min(begin('ingest.download_mls'), begin('ingest.download_county'))).toBeGreaterThanOrEqual(end('start'));
    expect(Math.min(begin('checks.listings.prices'), begin('checks.listings.duplicates'))).toBeGreaterThanOrEqual(end('ingest.merge'));
    expect(begin('publish')).toBeGreaterThanOrEqual(Math.max(end('checks.listings.prices'), end('checks.listings.duplicates')));
    expect(await results(result.run.id, 'checks.listings.prices')).toEqual([3]);
    expect(await results(result.run.id, 'publish')).toEqual([{ published: 3, checked: ['checks.listings.duplicates', 'checks.listings.prices'] }]);
  });

  it('example_setup_teardown drops the staging schema after the work, also when validation fails', async () => {
    const ok = await runDagToCompletion(setup.engine, 'example_setup_teardown');
    expect(ok.state).toBe('success');
    expect(byTask(ok.tasks).drop_staging!.startDate!.getTime()).toBeGreaterThanOrEqual(byTask(ok.tasks).swap_into_production!.endDate!.getTime());

    const rejected = await runDagToCompletion(setup.engine, 'example_setup_teardown', { params: { rejectBatch: true } });
    expect(rejected.state).toBe('failed');
    expect(statesOf(rejected.tasks)).toEqual({
      create_staging: 'success',
      load_listings: 'success',
      validate: 'failed',
      swap_into_production: 'upstream_failed',
      drop_staging: 'success',
    });
    const at = byTask(rejected.tasks);
    expect(at.drop_staging!.startDate!.getTime()).toBeGreaterThanOrEqual(at.validate!.endDate!.getTime());
    const [schema] = await results(rejected.run.id, 'create_staging');
    const lines = await getTaskLogs(setup.engine.db, { dagId: 'example_setup_teardown', runId: rejected.run.run_id, taskId: 'drop_staging' });
    expect(lines.map((l) => l.message)).toContain(`DROP SCHEMA ${String(schema)} CASCADE (simulated)`);
  });

  it('example_dynamic_mapping maps over the counties an upstream task returned and summarizes them in map-index order', async () => {
    // pierce (index 0) is the slowest to answer: results are ordered by map index, not by finish.
    const counties = ['pierce', 'king', 'hays'];
    const result = await runDagToCompletion(setup.engine, 'example_dynamic_mapping', { params: { counties } });
    expect(result.state).toBe('success');
    const fetched = result.tasks.filter((t) => t.taskId === 'fetch_sales');
    expect(fetched.map((t) => [t.mapIndex, t.state])).toEqual([[0, 'success'], [1, 'success'], [2, 'success']]);
    const instances = (await results(result.run.id, 'fetch_sales')) as { county: string; sales: number; minPrice: number; currency: string }[];
    expect(instances.map((r) => r.county)).toEqual(counties);
    // The shared (partial) arguments reached every instance.
    expect(instances.every((r) => r.minPrice === 250_000 && r.currency === 'USD')).toBe(true);
    const [summary] = (await results(result.run.id, 'summarize')) as { counties: string[]; total: number }[];
    expect(summary).toEqual({ counties, total: instances.reduce((sum, r) => sum + r.sales, 0) });
  });
});
