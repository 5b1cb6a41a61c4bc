import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../src/config.js';
import { triggerDag, waitForRun } from '../../src/service/runs.js';
import { xcomObjectKey } from '../../src/storage/xcom-store.js';
import { createWebApp } from '../../src/web/app.js';
import { setupEngine, type TestSetup } from '../helpers.js';
import { runCli } from '../support/cli.js';
import { startTributary, tempProject, type TempProject, type TributaryProcess } from '../support/tributary-process.js';
import { apiAs, WebClient } from '../support/web-client.js';

// Chaos, fault 7: task results over the XCom limit, run by a real `tributary worker` process.
// Without offload such a result fails its task (XCOM_TOO_LARGE) and the worker carries on; with
// `xcomOffload` it goes to the object store (the local directory store here) and every reader gets it
// back whole.

const FIXTURE = readFileSync(join(import.meta.dirname, 'fixtures/oversized-results/results.ts'), 'utf8');
const OBJECTS = 'objects';
const OFFLOAD = { thresholdBytes: 65_536, maxBytes: 8 * 1024 * 1024 };

let project: TempProject;
let setup: TestSetup;
let worker: TributaryProcess | null = null;

/** Point the project's config file at `config` and (re)start the worker process with it. */
async function startWorker(config: EngineConfig): Promise<TributaryProcess> {
  await worker?.stop();
  writeFileSync(join(project.dir, 'tributary.config.json'), JSON.stringify({ dagsFolders: ['dags'], objectStore: { root: OBJECTS }, ...config }));
  worker = startTributary(['worker', '--concurrency', '4'], { cwd: project.dir, databaseUrl: setup.database.url });
  await worker.waitFor(/worker started/, 60_000);
  return worker;
}

/** Trigger a run and wait for its end; returns its run id, primary key and state. */
async function run(dagId: string): Promise<{ runId: string; pk: number; state: string }> {
  const created = await triggerDag(setup.engine.context, dagId, { triggeredBy: 'test' });
  const state = await waitForRun(setup.engine.db, created.id, { timeoutMs: 90_000 });
  return { runId: created.run_id, pk: created.id, state };
}

async function taskRows(runPk: number) {
  return setup.engine.db.selectFrom('tributary.task_instance').select(['task_id', 'map_index', 'state', 'pid']).where('run_pk', '=', runPk).orderBy('task_id').orderBy('map_index').execute();
}

async function lastError(runPk: number, taskId: string) {
  const row = await setup.engine.db
    .selectFrom('tributary.task_try as tt')
    .innerJoin('tributary.task_instance as t', 't.id', 'tt.ti_id')
    .select('tt.error')
    .where('t.run_pk', '=', runPk)
    .where('t.task_id', '=', taskId)
    .orderBy('tt.try_number', 'desc')
    .executeTakeFirstOrThrow();
  return row.error as { code?: string; message: string };
}

async function result(runPk: number, taskId: string, mapIndex = -1) {
  return setup.engine.db
    .selectFrom('tributary.xcom')
    .select(['value', 'size_bytes', 'offloaded', sql<number>`pg_column_size(value)`.as('stored_bytes')])
    .where('run_pk', '=', runPk)
    .where('task_id', '=', taskId)
    .where('map_index', '=', mapIndex)
    .where('key', '=', 'return_value')
    .executeTakeFirst();
}

beforeAll(async () => {
  project = tempProject({ objectStore: { root: OBJECTS } }, { 'results.ts': FIXTURE });
  // The in-test engine schedules and serves the REST API; the worker process runs every task.
  setup = await setupEngine({ projectDir: project.dir, dagsFolders: [project.dagsDir], objectStore: { root: join(project.dir, OBJECTS) } });
  await setup.engine.parseDags();
  setup.engine.startScheduler();
});
afterAll(async () => {
  await worker?.stop();
  await setup?.close();
  project?.remove();
});

describe('a result over xcomMaxBytes without offload', () => {
  it('fails its task with XCOM_TOO_LARGE naming the DAG, the task and the limit; the worker keeps running tasks', async () => {
    const first = await startWorker({});
    const failed = await run('xcom_too_big');
    expect(failed.state).toBe('failed');
    const error = await lastError(failed.pk, 'huge');
    expect(error.code).toBe('XCOM_TOO_LARGE');
    expect(error.message).toMatch(/^DAG 'xcom_too_big': task 'huge': result is \d{7} bytes, over the limit of 1048576 bytes \(xcomMaxBytes\)/);
    expect(await result(failed.pk, 'huge')).toBeUndefined();

    expect(first.alive()).toBe(true);
    const after = await run('xcom_small');
    expect(after.state).toBe('success');
    // The same worker process ran the tasks after the failure.
    expect((await taskRows(after.pk)).map((t) => t.pid)).toEqual([first.child.pid, first.child.pid]);
  });
});

describe('a result over the threshold with xcomOffload', () => {
  let big: { runId: string; pk: number; state: string };
  beforeAll(async () => {
    await startWorker({ xcomOffload: OFFLOAD });
    big = await run('xcom_big');
  }, 180_000);

  it('passes a 5 MB result to downstream tasks, a template and a mapped task intact', async () => {
    expect(big.state).toBe('success');
    const consumed = (await result(big.pk, 'consume'))!.value as { intact: boolean; rows: number; bytes: number };
    expect(consumed).toMatchObject({ intact: true, rows: expect.any(Number) });
    expect(consumed.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect((await result(big.pk, 'templated'))!.value).toEqual({ shaMatches: true, count: consumed.rows });
    expect((await taskRows(big.pk)).filter((t) => t.task_id === 'each')).toHaveLength(8);
    expect((await result(big.pk, 'total'))!.value).toBe(8 * (256 * 1024 - 3));
  });

  it('stores the result in the object store under its key, and only a small reference in the row', async () => {
    const row = (await result(big.pk, 'produce'))!;
    const key = xcomObjectKey({ dagId: 'xcom_big', runId: big.runId, taskId: 'produce', mapIndex: -1, tryNumber: 1 });
    expect(row.offloaded).toBe(true);
    expect(row.value).toEqual({ bucket: 'tributary', key, sizeBytes: row.size_bytes });
    expect(row.size_bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(row.stored_bytes).toBeLessThan(500);
    expect(statSync(join(project.dir, OBJECTS, 'tributary', ...key.split('/'))).size).toBe(row.size_bytes);
    // Results under the threshold stay in the database.
    expect((await result(big.pk, 'consume'))!.offloaded).toBe(false);
  });

  it('returns the whole result from the REST API with where it is stored; the task page shows the key and size instead', async () => {
    const app = createWebApp(setup.engine);
    const { as, users } = await apiAs(app, setup.engine);
    const response = await as('viewer', 'GET', `/dags/xcom_big/runs/${encodeURIComponent(big.runId)}/tasks/produce/xcom`);
    expect(response.status).toBe(200);
    const { entries } = (await response.json()) as { entries: { key: string; value: { rows: string[]; sha256: string }; sizeBytes: number; storedAt: { bucket: string; key: string } }[] };
    const row = (await result(big.pk, 'produce'))!;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.storedAt).toEqual({ bucket: 'tributary', key: (row.value as { key: string }).key });
    expect(entries[0]!.sizeBytes).toBe(row.size_bytes);
    expect(Buffer.byteLength(JSON.stringify(entries[0]!.value))).toBe(row.size_bytes);

    const viewer = new WebClient(app);
    await viewer.login(users.viewer.username, users.viewer.password);
    const page = await viewer.page(`/dags/xcom_big/runs/${encodeURIComponent(big.runId)}/tasks/produce`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`${row.size_bytes} bytes`);
    expect(page.html).toContain((row.value as { key: string }).key.replaceAll('&', '&amp;'));
    expect(page.html.length).toBeLessThan(200_000);
  });

  it('fails a result over the offload cap with XCOM_TOO_LARGE naming the task and the cap; the worker keeps running tasks', async () => {
    const failed = await run('xcom_over_offload_cap');
    expect(failed.state).toBe('failed');
    const error = await lastError(failed.pk, 'enormous');
    expect(error.code).toBe('XCOM_TOO_LARGE');
    expect(error.message).toMatch(/^DAG 'xcom_over_offload_cap': task 'enormous': result is \d{7} bytes, over the limit of 8388608 bytes \(xcomOffload\.maxBytes\)/);
    expect(worker!.alive()).toBe(true);
    const after = await run('xcom_small');
    expect(after.state).toBe('success');
    expect(new Set((await taskRows(after.pk)).map((t) => t.pid))).toEqual(new Set([worker!.child.pid]));
  });

  it('runs the DAG with `tributary dags test`, whose downstream tasks read the offloaded result', async () => {
    const tested = await runCli(setup.database.url, ['dags', 'test', 'xcom_big', '--json'], { cwd: project.dir });
    expect(tested.code, tested.stderr.slice(-2000)).toBe(0);
    const parsed = JSON.parse(tested.stdout) as { state: string; tasks: { taskId: string; state: string }[] };
    expect(parsed.state).toBe('success');
    expect(parsed.tasks.every((t) => t.state === 'success')).toBe(true);
  });
});
