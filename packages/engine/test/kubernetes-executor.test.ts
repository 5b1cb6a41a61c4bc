import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listTaskInstances, waitForRun } from '../src/service/runs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { FakeKubernetes, type FakePod } from './support/fake-kubernetes.js';
import { eventually, PACKAGE_DIR, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

const BIN = join(PACKAGE_DIR, 'bin/tributary.js');

const DAGS = `
import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '@tributary/engine';

export const inPods = dag({ id: 'in_pods' });
const compute = inPods.task('compute', { executor: 'kubernetes', executorConfig: { resources: { requests: { cpu: '250m' } }, labels: { team: 'deals' } } }, async () => {
  console.log('computing in pid', process.pid);
  return { answer: 42, pid: process.pid };
});
inPods.task('after', { upstream: [compute] }, ({ upstream }) => upstream.compute.answer + 1);

export const failing = dag({ id: 'pods_failing' });
failing.task('boom', { executor: 'kubernetes' }, () => 'never');

export const slow = dag({ id: 'pods_slow' });
slow.task('long', { executor: 'kubernetes' }, async () => {
  await sleep(4_000);
  return 'finished alone';
});

export const manual = dag({ id: 'by_hand' });
manual.task('only', () => 'ran by hand');
`;

let cluster: FakeKubernetes;
let setup: TestSetup;
let folder: ReturnType<typeof tempDagFolder>;

/** The fake kubelet: runs a pod's `tributary …` command as a local process with the Secret's DATABASE_URL. */
function kubelet(pod: FakePod): void {
  void pod.runProcess(
    ([program, ...args]) => {
      expect(program).toBe('tributary');
      return { file: process.execPath, args: [BIN, ...args] };
    },
    { DATABASE_URL: setup.database.url, TRIBUTARY_LOG_LEVEL: 'warn', TRIBUTARY_HEARTBEAT_INTERVAL_MS: '500', TRIBUTARY_HEARTBEAT_TIMEOUT_MS: '3000' },
    PACKAGE_DIR,
  );
}

beforeAll(async () => {
  cluster = await new FakeKubernetes().start();
  folder = tempDagFolder({ 'pods.ts': DAGS });
  setup = await setupEngine({
    dagsFolders: [folder.dir],
    kubernetes: { kubeconfig: cluster.kubeconfigPath, context: 'fake', image: 'registry.example.com/tributary:0.1.0', pod: { envFrom: [{ secret: 'tributary-secrets' }], serviceAccountName: 'tributary' } },
  });
  await setup.engine.parseDags();
});
afterEach(() => cluster.reset());
afterAll(async () => {
  await setup?.close();
  await cluster?.close();
  folder?.remove();
});

async function tryRows(runPk: number, taskId: string) {
  return setup.engine.db
    .selectFrom('tributary.task_try as tt')
    .innerJoin('tributary.task_instance as t', 't.id', 'tt.ti_id')
    .select(['tt.state', 'tt.try_number', 'tt.error', 'tt.pid'])
    .where('t.run_pk', '=', runPk)
    .where('t.task_id', '=', taskId)
    .orderBy('tt.try_number')
    .execute();
}

async function log(runPk: number, taskId: string): Promise<string[]> {
  const rows = await setup.engine.db
    .selectFrom('tributary.task_log as l')
    .innerJoin('tributary.task_instance as t', 't.id', 'l.ti_id')
    .select('l.message')
    .where('t.run_pk', '=', runPk)
    .where('t.task_id', '=', taskId)
    .orderBy('l.logged_at')
    .execute();
  return rows.map((r) => r.message);
}

describe('the kubernetes executor', () => {
  it('runs a task in its own pod, which records state, log and result itself', async () => {
    cluster.onCreate = kubelet;
    const result = await runDagToCompletion(setup.engine, 'in_pods');
    expect(result.state).toBe('success');
    expect(cluster.created).toHaveLength(1);
    const pod = cluster.created[0]!;
    expect(pod.raw.metadata!.labels).toMatchObject({ team: 'deals', 'tributary.io/kind': 'executor', 'tributary.io/task-id': 'compute', 'tributary.io/try-number': '1' });
    expect(pod.raw.spec).toMatchObject({
      restartPolicy: 'Never',
      serviceAccountName: 'tributary',
      containers: [
        {
          name: 'task',
          image: 'registry.example.com/tributary:0.1.0',
          command: ['tributary', 'tasks', 'run', 'in_pods', result.run.run_id, 'compute', '--try', '1', '--map-index', '-1'],
          envFrom: [{ secretRef: { name: 'tributary-secrets' } }],
          resources: { requests: { cpu: '250m' } },
        },
      ],
    });
    const compute = (await listTaskInstances(setup.engine.db, result.run.id)).find((t) => t.taskId === 'compute')!;
    expect(compute).toMatchObject({ state: 'success', tryNumber: 1 });
    const row = await setup.engine.db.selectFrom('tributary.task_instance').select(['executor', 'external_id', 'pid']).where('id', '=', compute.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ executor: 'kubernetes', external_id: pod.key });
    expect(row.pid).not.toBe(process.pid);
    const xcom = await setup.engine.db.selectFrom('tributary.xcom').select(['task_id', 'value']).where('run_pk', '=', result.run.id).orderBy('task_id').execute();
    expect(xcom).toEqual([
      { task_id: 'after', value: 43 },
      { task_id: 'compute', value: { answer: 42, pid: row.pid } },
    ]);
    const lines = await log(result.run.id, 'compute');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/with the kubernetes executor$/),
        expect.stringMatching(/^Created pod tasks\/compute-\w+-1 \(image registry.example.com\/tributary:0.1.0\); the task runs there/),
        expect.stringMatching(/with the local executor$/), // the pod's own start line
        `computing in pid ${row.pid}`,
      ]),
    );
    await eventually(async () => !pod.exists, 5_000, 'the pod to be deleted after success');
  });

  it('fails the try with the reason when the pod cannot start', async () => {
    cluster.onCreate = (pod) => pod.waiting('ErrImagePull', 'failed to pull image "registry.example.com/tributary:0.1.0": 401 Unauthorized');
    const result = await runDagToCompletion(setup.engine, 'pods_failing');
    expect(result.state).toBe('failed');
    const [tried] = await tryRows(result.run.id, 'boom');
    expect((tried!.error as { message: string }).message).toMatch(/^pod tasks\/boom-\w+-1: container 'task' cannot start: ErrImagePull: failed to pull image .*401 Unauthorized/);
    await eventually(async () => !cluster.created[0]!.exists, 5_000, 'the pod to be deleted');
  });

  it('fails the try with the exit code and last log lines when the pod dies before reporting', async () => {
    cluster.onCreate = (pod) =>
      void pod.runProcess(() => ({ file: process.execPath, args: ['-e', "console.error('connecting to postgres://db:5432'); console.error('ECONNREFUSED'); process.exit(3)"] }), {});
    const result = await runDagToCompletion(setup.engine, 'pods_failing');
    expect(result.state).toBe('failed');
    const [tried] = await tryRows(result.run.id, 'boom');
    expect((tried!.error as { message: string }).message).toBe(
      `pod ${cluster.created[0]!.key}: container 'task' failed: Error (exit code 3)\nLast 2 log line(s):\n  connecting to postgres://db:5432\n  ECONNREFUSED`,
    );
    expect(cluster.created[0]!.exists, 'a failed pod is kept to inspect (deleteOnSuccess)').toBe(true);
  });

  it('keeps running the pod when its worker shuts down; the pod records the outcome alone', async () => {
    const { engine } = setup;
    cluster.onCreate = kubelet;
    const run = await engine.trigger('pods_slow');
    const worker = await engine.startWorker();
    await eventually(async () => (await log(run.id, 'long')).some((l) => l.endsWith('with the local executor')), 30_000, 'the pod to start the task');
    await engine.stopWorker(worker);
    expect(cluster.created[0]!.exists).toBe(true);
    expect(await waitForRun(engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
    const [tried] = await tryRows(run.id, 'long');
    expect(tried).toMatchObject({ state: 'success', try_number: 1 });
    expect(cluster.count('POST')).toBe(1);
    expect(await log(run.id, 'long')).toEqual(expect.arrayContaining([expect.stringMatching(/^Worker shutting down: pod tasks\/long-\w+-1 keeps running/)]));
  });
});

describe('tributary tasks run', () => {
  it("runs a queued instance's next try in the foreground and says how it ended", async () => {
    const run = await setup.engine.trigger('by_hand');
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'tasks', 'run', 'by_hand', run.run_id, 'only', '--try', '1', '--database-url', setup.database.url], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn', DATABASE_URL: '' },
    });
    expect(stdout).toBe(`by_hand.only try 1 (run ${run.run_id}): success\n`);
    expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 10_000 })).toBe('success');
    const again = await promisify(execFile)(process.execPath, [BIN, 'tasks', 'run', 'by_hand', run.run_id, 'only', '--try', '1', '--database-url', setup.database.url], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn', DATABASE_URL: '' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining(`task 'only' in run '${run.run_id}' of DAG 'by_hand' is success at try 1: there is no try 1 to run`) });
  });
});
