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
  it.each(['hello_world', 'example_etl', 'example_fan_out_fan_in', 'example_scheduled_report', 'example_cron_seconds', 'example_every_6h', 'example_continuous'])('%s succeeds under dags test', async (dagId) => {
    const result = await runDagToCompletion(setup.engine, dagId);
    expect(result.state).toBe('success');
  });

  it('example_etl retried its flaky extract, skipped the failure alert and ran the cleanup', async () => {
    const result = await runDagToCompletion(setup.engine, 'example_etl');
    const byId = Object.fromEntries(result.tasks.map((t) => [t.taskId, t]));
    expect(byId.extract).toMatchObject({ state: 'success', tryNumber: 2 });
    expect(byId.alert_on_failure!.state).toBe('skipped');
    expect(byId.cleanup!.state).toBe('success');
  });
});
