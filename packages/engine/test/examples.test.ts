import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [join(PACKAGE_DIR, 'examples')] });
});
afterAll(() => setup?.close());

describe('the shipped examples', () => {
  it.each(['hello_world', 'example_etl', 'example_fan_out_fan_in', 'example_scheduled_report', 'example_cron_seconds', 'example_every_6h', 'example_continuous', 'example_sensors', 'example_concurrency'])('%s succeeds under dags test', async (dagId) => {
    const result = await runDagToCompletion(setup.engine, dagId);
    expect(result.state).toBe('success');
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
