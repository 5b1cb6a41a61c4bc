import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { createWebApp } from '../src/web/app.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
});
afterAll(() => setup?.close());

function value(text: string, metric: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${metric} `));
  return line === undefined ? undefined : Number(line.slice(metric.length + 1));
}

describe('/metrics', () => {
  it('reports Airflow-named metrics from the database in Prometheus text format, without signing in', async () => {
    const app = createWebApp(setup.engine, { metricsCacheMs: 0 });
    const run = await triggerDag(setup.engine.context, 'failures');
    await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 });
    await setup.engine.db.insertInto('tributary.import_error').values({ file: 'x.ts', message: 'broken', occurred_at: new Date() }).execute();
    const text = await eventually(async () => {
      const body = await (await app.request('/metrics')).text();
      return body.includes('tributary_scheduler_scheduler_loop_duration_seconds{') ? body : undefined;
    }, 20_000, 'a scheduler heartbeat with loop durations');
    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/# TYPE tributary_scheduler_scheduler_loop_duration_seconds gauge/);
    expect(text).toMatch(/tributary_pool_open_slots\{pool="default_pool"\} 128/);
    expect(text).toMatch(/tributary_pool_running_slots\{pool="default_pool"\} 0/);
    expect(text).toMatch(/tributary_pool_queued_slots\{pool="default_pool"\} 0/);
    expect(value(text, 'tributary_dag_processing_import_errors')).toBe(1);
    expect(value(text, 'tributary_ti_failures_total')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tributary_executor_workers_alive')).toBe(1);
    expect(text).toMatch(/tributary_task_queued_duration_seconds\{quantile="0.5"\} [\d.e-]+/);
    expect(value(text, 'tributary_task_queued_duration_seconds_count')).toBeGreaterThan(0);
    expect(text).toMatch(/# TYPE tributary_dagrun_schedule_delay_seconds gauge/);
    expect(text).toContain('tributary_web_process_resident_memory_bytes');
  });
});
