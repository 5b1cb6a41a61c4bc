import { randomUUID } from 'node:crypto';
import type { DagRunRow, RunState } from '../db/schema.js';
import { closest } from '../dag/validate.js';
import { DagImportError, NotFoundError } from '../errors.js';
import type { Tributary } from '../engine.js';
import { createRun } from '../scheduler/run-lifecycle.js';
import { listTaskInstances, waitForRun, type TaskInstanceSummary } from './runs.js';

/** Options of {@link testDag}. */
export interface TestDagOptions {
  params?: unknown;
  /** @defaultValue now */
  logicalDate?: Date;
  /** Called as task instances change state. */
  onChange?: (instance: TaskInstanceSummary) => void;
  /** Tasks run at once. @defaultValue the engine's worker concurrency */
  concurrency?: number;
  timeoutMs?: number;
}

/** The outcome of {@link testDag}. */
export interface TestDagResult {
  run: DagRunRow;
  state: RunState;
  tasks: TaskInstanceSummary[];
  durationMs: number;
}

/**
 * Run a whole DAG once, to completion, in this process (Airflow's `dags test`): the DAG folders are
 * parsed, a `test` run is created whatever the DAG's pause state and run limits, and a private
 * worker queue served by this process runs every task (retries and timeouts included).
 */
export async function testDag(engine: Tributary, dagId: string, options: TestDagOptions = {}): Promise<TestDagResult> {
  const summary = await engine.parseDags();
  const found = summary.results.find((r) => r.dags.some((d) => d.serialized.dagId === dagId));
  if (!found) {
    const failed = summary.results.filter((r) => r.error);
    const known = summary.results.flatMap((r) => r.dags.map((d) => d.serialized.dagId)).sort();
    const suggestion = closest(dagId, known);
    const hints = [
      suggestion ? `did you mean '${suggestion}'?` : null,
      `known DAGs: ${known.join(', ') || 'none'}`,
      failed.length > 0 ? `files with import errors: ${failed.map((f) => f.file.relative).join(', ')}` : null,
    ];
    throw new NotFoundError(`DAG '${dagId}'`, { dagId }, hints.filter(Boolean).join('; '));
  }
  if (found.error) throw new DagImportError(found.file.relative, found.error.message);
  const queue = `test-${randomUUID().slice(0, 8)}`;
  const started = performance.now();
  const worker = await engine.startWorker({ queues: [queue], ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  try {
    const at = options.logicalDate ?? new Date();
    const run = await createRun(engine.context, {
      dagId,
      runType: 'test',
      runId: `test__${at.toISOString()}__${queue.slice(5)}`,
      logicalDate: at,
      dataInterval: { start: at, end: at },
      params: options.params,
      queueOverride: queue,
      triggeredBy: 'dags test',
    });
    const state = await waitForRun(engine.db, run.id, { onChange: options.onChange, timeoutMs: options.timeoutMs });
    return { run, state, tasks: await listTaskInstances(engine.db, run.id), durationMs: performance.now() - started };
  } finally {
    await engine.stopWorker(worker);
    // The run's callbacks (started as it finished) are part of the test.
    await engine.context.callbacks?.drain();
    await engine.deleteQueue(queue).catch(() => {});
  }
}
