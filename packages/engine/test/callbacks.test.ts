import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tributary } from '../src/engine.js';
import { fireMissedDeadlines } from '../src/scheduler/deadlines.js';
import { claimTaskInstance } from '../src/scheduler/task-transitions.js';
import { markTaskInstances } from '../src/service/actions.js';
import { getTaskLogs } from '../src/service/logs.js';
import { listTaskInstances, triggerDag, waitForRun } from '../src/service/runs.js';
import { openTestEngine, runDagToCompletion } from '../src/testing/index.js';
import { PACKAGE_DIR, eventually, setupEngine, type TestSetup } from './helpers.js';

const FOLDER = join(PACKAGE_DIR, 'test/fixtures/callbacks');
const actor = { name: 'test', origin: 'test' };
let setup: TestSetup;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callbacks-'));
  // No worker serves the default queue here: runs triggered by hand stay where the test puts them.
  setup = await setupEngine({ dagsFolders: [FOLDER], callbackTimeoutMs: 1_000 });
  await setup.engine.parseDags();
});
afterAll(async () => {
  await setup?.close();
  delete process.env.TRIBUTARY_TEST_CALLBACK_FILE;
  rmSync(dir, { recursive: true, force: true });
});
beforeEach((context) => {
  file = join(dir, `${context.task.id}.jsonl`);
  process.env.TRIBUTARY_TEST_CALLBACK_FILE = file;
});

type Entry = Record<string, unknown> & { kind: string };
function recorded(): Entry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Entry);
}
const order = (entries: Entry[]) => [...entries].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

async function logOf(dagId: string, runId: string, taskId: string): Promise<string[]> {
  return (await getTaskLogs(setup.engine.db, { dagId, runId, taskId })).map((l) => l.message);
}

describe('task and DAG callbacks', () => {
  it('fire once each, after the state is stored, with the try they are about', async () => {
    const result = await runDagToCompletion(setup.engine, 'callback_kinds', { params: { tag: 'k1' } });
    expect(result.state).toBe('failed');
    const runId = result.run.run_id;
    const task = (taskId: string, kind: string, state: string, tryNumber = 1, error: string | null = null, mapIndex = -1) => ({
      kind, dagId: 'callback_kinds', runId, taskId, mapIndex, tryNumber, state, error, params: { tag: 'k1' },
    });
    expect(order(recorded())).toEqual(
      order([
        task('ok', 'success', 'success'),
        task('skips', 'skipped', 'skipped', 1, 'nothing to do'),
        task('fails', 'retry', 'up_for_retry', 1, 'broken on try 1'),
        task('fails', 'failure', 'failed', 2, 'broken on try 2'),
        task('mapped', 'success', 'success', 1, null, 0),
        task('mapped', 'success', 'success', 1, null, 1),
        // after_fails is upstream_failed: not a failure callback (as in Airflow).
        { kind: 'failure', dagId: 'callback_kinds', runId, state: 'failed', failedTasks: ['after_fails', 'fails'], deadline: null },
      ]),
    );
    const lines = await logOf('callback_kinds', runId, 'ok');
    expect(lines).toEqual(expect.arrayContaining(['Running the success callback', 'callback success recorded']));
    expect(lines.indexOf('Running the success callback')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Task succeeded')));
  });

  it('logs a throwing or hanging callback to the try log and changes nothing', async () => {
    const result = await runDagToCompletion(setup.engine, 'callback_misbehaving');
    expect(result.state).toBe('success');
    expect(result.tasks.map((t) => [t.taskId, t.state, t.tryNumber])).toEqual([
      ['throws', 'success', 1],
      ['hangs', 'success', 1],
    ]);
    const runId = result.run.run_id;
    const throws = await logOf('callback_misbehaving', runId, 'throws');
    expect(throws.some((l) => /^The success callback 1 of 2 failed: Error: callback exploded[\s\S]*\(nothing was changed\)$/.test(l))).toBe(true);
    const hangs = await logOf('callback_misbehaving', runId, 'hangs');
    expect(hangs).toContain('The success callback did not finish within 1000 ms; abandoned (nothing was changed)');
    // The second callback of `throws` still ran, and the DAG's once.
    expect(order(recorded().map((e) => ({ kind: e.kind, taskId: e.taskId ?? null })))).toEqual(
      order([
        { kind: 'success', taskId: 'throws' },
        { kind: 'success', taskId: null },
      ]),
    );
  });

  it('runs the failure callback in the scheduler when it fails a task whose worker died', async () => {
    setup.engine.startScheduler();
    const run = await triggerDag(setup.engine.context, 'callback_zombie');
    const [ti] = await listTaskInstances(setup.engine.db, run.id);
    await eventually(async () => (await listTaskInstances(setup.engine.db, run.id))[0]!.state === 'queued', 10_000, 'the task to be queued');
    // A worker claims the try and dies: it never heart-beats again.
    const claimed = await claimTaskInstance(setup.engine.context, { tiId: ti!.id, tryNumber: 0 }, { id: 'worker-gone', hostname: 'gone', pid: 1, executor: 'local' });
    expect(claimed).not.toBeNull();
    await sql`UPDATE tributary.task_instance SET heartbeat_at = now() - interval '1 hour' WHERE id = ${ti!.id}`.execute(setup.engine.db);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('failed');
    const entries = await eventually(async () => (recorded().length === 2 ? recorded() : undefined), 15_000, 'the failure callbacks');
    expect(order(entries)).toEqual(
      order([
        { kind: 'failure', dagId: 'callback_zombie', runId: run.run_id, taskId: 'stuck', mapIndex: -1, tryNumber: 1, state: 'failed', error: expect.stringContaining('stopped heart-beating') as unknown, params: {} },
        { kind: 'failure', dagId: 'callback_zombie', runId: run.run_id, state: 'failed', failedTasks: ['stuck'], deadline: null },
      ]),
    );
    expect(await logOf('callback_zombie', run.run_id, 'stuck')).toContain('callback failure recorded');
  });
});

describe('deadline alerts', () => {
  it('sets the deadline from the reference when the run is created', async () => {
    const run = await triggerDag(setup.engine.context, 'callback_deadline');
    const row = await sql<{ after: string }>`
      SELECT (deadline_at - queued_at)::text AS after FROM tributary.dag_run WHERE id = ${run.id}`.execute(setup.engine.db);
    expect(row.rows[0]!.after).toBe('01:00:00');
    await markTaskInstances(setup.engine.context, { dagId: 'callback_deadline', runId: run.run_id, taskIds: ['wait'] }, 'success', actor);
  });

  it('fires once, with several schedulers, for a run not finished by its deadline, and not for one that finished in time', async () => {
    const late = await triggerDag(setup.engine.context, 'callback_deadline');
    const onTime = await triggerDag(setup.engine.context, 'callback_deadline');
    await eventually(async () => (await listTaskInstances(setup.engine.db, onTime.id))[0]!.state === 'queued', 10_000, 'the task to be queued');
    await markTaskInstances(setup.engine.context, { dagId: 'callback_deadline', runId: onTime.run_id, taskIds: ['wait'] }, 'success', actor);
    expect(await waitForRun(setup.engine.db, onTime.id, { timeoutMs: 10_000 })).toBe('success');
    // Both deadlines pass now (rather than waiting an hour).
    await sql`UPDATE tributary.dag_run SET deadline_at = now() - interval '1 second' WHERE id IN (${late.id}, ${onTime.id})`.execute(setup.engine.db);
    const second: Tributary = await openTestEngine({ databaseUrl: setup.database.url, projectDir: PACKAGE_DIR, dagsFolders: [FOLDER] });
    try {
      const fired = await Promise.all([fireMissedDeadlines(setup.engine.context), fireMissedDeadlines(second.context), fireMissedDeadlines(second.context)]);
      // The scheduler loop started above may have fired it first: then none of these did.
      expect(fired.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
      await second.context.callbacks!.drain();
      await setup.engine.context.callbacks!.drain();
      const entries = await eventually(async () => (recorded().length > 0 ? recorded() : undefined), 10_000, 'the deadline callback');
      expect(entries).toEqual([
        { kind: 'deadline', dagId: 'callback_deadline', runId: late.run_id, state: 'running', failedTasks: [], deadline: { reference: 'queuedAt', afterMs: 3_600_000 } },
      ]);
      expect(await fireMissedDeadlines(second.context)).toBe(0);
    } finally {
      await second.close();
    }
    const alerted = await sql<{ id: number; alerted: boolean }>`
      SELECT id, deadline_alerted_at IS NOT NULL AS alerted FROM tributary.dag_run WHERE id IN (${late.id}, ${onTime.id}) ORDER BY id`.execute(setup.engine.db);
    expect(alerted.rows.map((r) => r.alerted)).toEqual([true, false]);
    // The late run is not changed by its alert.
    expect((await listTaskInstances(setup.engine.db, late.id))[0]!.state).toBe('queued');
  });
});
