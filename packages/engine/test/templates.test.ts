import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTaskLogs } from '../src/service/logs.js';
import { getTaskInstance, listTaskTries } from '../src/service/run-queries.js';
import { setVariable } from '../src/service/variables.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';

const FOLDER = join(PACKAGE_DIR, 'test/fixtures/templating');
let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [FOLDER] });
  await setVariable(setup.engine.db, { key: 'region', value: 'us-east-1' }, { name: 'test', origin: 'test' });
});
afterAll(() => setup?.close());

const instance = (dagId: string, runId: string, taskId: string, mapIndex = -1) => getTaskInstance(setup.engine.db, { dagId, runId, taskId, mapIndex });

describe('templated arguments', () => {
  it('renders arguments from the run context before the task runs and stores them, mapped instances included', async () => {
    const logicalDate = new Date('2024-03-05T06:00:00Z');
    const result = await runDagToCompletion(setup.engine, 'templated', { params: { county: 'queens' }, logicalDate });
    expect(result.state).toBe('success');
    const runId = result.run.run_id;
    const load = await instance('templated', runId, 'load');
    const expected = {
      path: 's3://bucket/20240305/queens.parquet',
      limit: 25,
      files: ['a.csv', 'b.csv'],
      names: { run: runId, dag: 'templated', task: 'load' },
      region: 'us-east-1',
      untouched: 42,
    };
    expect(load.renderedArgs).toEqual(expected);
    // The task received exactly what was stored.
    const xcom = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', result.run.id).where('task_id', '=', 'load').executeTakeFirstOrThrow();
    expect(xcom.value).toEqual(expected);

    expect((await instance('templated', runId, 'per_file', 0)).renderedArgs).toEqual({ day: '2024-03-05', file: 'queens-0.csv' });
    expect((await instance('templated', runId, 'per_file', 1)).renderedArgs).toEqual({ day: '2024-03-05', file: 'plain.csv' });
    const echo = await instance('templated', runId, 'echo');
    expect(echo.renderedArgs).toMatchObject({ command: 'echo', args: ['queens', 'templated'] });
    const lines = await getTaskLogs(setup.engine.db, { dagId: 'templated', runId, taskId: 'echo' });
    expect(lines.map((l) => l.message)).toContain('queens templated');
    // A task without arguments stores none.
    expect((await instance('templated', runId, 'extract')).renderedArgs).toBeNull();
  });

  it('renders each try anew and stores what it ran with', async () => {
    const result = await runDagToCompletion(setup.engine, 'templated_retry');
    expect(result.state).toBe('success');
    const flaky = await instance('templated_retry', result.run.run_id, 'flaky');
    expect(flaky.tryNumber).toBe(2);
    expect(flaky.renderedArgs).toEqual({ attempt: 2 });
  });

  it('fails the try with an error naming the DAG, task, argument path and unknown name', async () => {
    const result = await runDagToCompletion(setup.engine, 'templated_broken');
    expect(result.state).toBe('failed');
    const ref = { dagId: 'templated_broken', runId: result.run.run_id, taskId: 'bad' };
    const [attempt] = await listTaskTries(setup.engine.db, ref);
    expect(attempt!.error).toMatchObject({ name: 'TemplateError', code: 'TEMPLATE_INVALID' });
    expect(attempt!.error!.message).toBe(
      "DAG 'templated_broken': task 'bad': argument 'args.paths[1]' (template \"s3://x/{{ ds_nodsh }}\"): unknown name 'ds_nodsh' " +
        "(did you mean 'ds_nodash'? known names: ds, ds_nodash, ts, ts_nodash, ts_nodash_with_tz, logical_date, data_interval_start, data_interval_end, " +
        'run_id, dag_id, task_id, map_index, try_number, params, dag, task, ti, dag_run, upstream, xcom, var, conn, triggering_asset_events)',
    );
    expect((await getTaskInstance(setup.engine.db, ref)).renderedArgs).toBeNull();
  });
});
