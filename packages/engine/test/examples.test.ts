import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTaskLogs } from '../src/service/logs.js';
import { getTaskInstance } from '../src/service/run-queries.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [join(PACKAGE_DIR, 'examples')] });
});
afterAll(() => setup?.close());

describe('the shipped examples', () => {
  it.each(['hello_world', 'example_etl', 'example_fan_out_fan_in', 'example_scheduled_report', 'example_cron_seconds', 'example_every_6h', 'example_continuous', 'example_sensors', 'example_concurrency', 'example_assets_producer', 'example_assets_consumer', 'example_assets_either', 'example_templates', 'example_callbacks'])('%s succeeds under dags test', async (dagId) => {
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
});
