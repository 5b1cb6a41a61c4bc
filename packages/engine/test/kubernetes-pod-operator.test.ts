import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesPod } from '../src/operators/index.js';
import { clearTaskInstances } from '../src/service/actions.js';
import { listTaskInstances, waitForRun } from '../src/service/runs.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { FakeKubernetes, type FakePod } from './support/fake-kubernetes.js';
import { eventually, PACKAGE_DIR, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

const DAGS = `
import { dag } from '@tributary/engine';
import { kubernetesPod } from '@tributary/engine/operators';

const single = (id: string, args: Parameters<typeof kubernetesPod>[0], options: Record<string, unknown> = {}) => {
  const d = dag({ id });
  d.task('job', kubernetesPod(args), options);
  return d;
};
export const success = single('pod_success', {
  image: 'registry.example.com/scoring:1.4', command: ['score'], args: ['--county', 'King County, WA'],
  env: { MODE: 'full', API_KEY: { secret: 'scoring', key: 'api-key' } }, envFrom: [{ configMap: 'scoring-config' }],
  resources: { requests: { cpu: '500m', memory: '1Gi' } }, labels: { team: 'deals' }, annotations: { note: 'hi' },
  nodeSelector: { pool: 'batch' }, tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
  volumes: [{ name: 'data', emptyDir: {} }], volumeMounts: [{ name: 'data', mountPath: '/data' }],
  serviceAccountName: 'scorer', imagePullSecrets: ['registry'],
});
export const image = single('pod_image', { image: 'registry.example.com/nope:1' });
export const pending = single('pod_pending', { image: 'big:1', startupTimeout: '1s' });
export const failing = single('pod_failing', { image: 'job:1', errorLogLines: 3, onFinish: 'deleteOnSuccess' });
export const streaming = single('pod_streaming', { image: 'job:1' });
export const slow = single('pod_slow', { image: 'job:1' }, { executionTimeout: '1500ms' });
export const clearable = single('pod_clear', { image: 'job:1' });
export const restartable = single('pod_restart', { image: 'job:1' }, { retries: 1, retryDelay: 100 });
export const crashable = single('pod_crash', { image: 'job:1' }, { retries: 1, retryDelay: 100 });
`;

let cluster: FakeKubernetes;
let setup: TestSetup;
let folder: ReturnType<typeof tempDagFolder>;

beforeAll(async () => {
  cluster = await new FakeKubernetes().start();
  folder = tempDagFolder({ 'pods.ts': DAGS });
  setup = await setupEngine({ dagsFolders: [folder.dir], kubernetes: { kubeconfig: cluster.kubeconfigPath, context: 'fake' } });
  await setup.engine.parseDags();
});
afterEach(() => cluster.reset());
afterAll(async () => {
  await setup?.close();
  await cluster?.close();
  folder?.remove();
});

/** The log lines of a run's task, in order. */
async function taskLog(runPk: number, tryNumber?: number): Promise<string[]> {
  let query = setup.engine.db
    .selectFrom('tributary.task_log as l')
    .innerJoin('tributary.task_instance as t', 't.id', 'l.ti_id')
    .select(['l.message'])
    .where('t.run_pk', '=', runPk)
    .orderBy('l.id');
  if (tryNumber !== undefined) query = query.where('l.try_number', '=', tryNumber);
  return (await query.execute()).map((r) => r.message);
}

async function xcom(runPk: number): Promise<unknown> {
  const row = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', runPk).executeTakeFirst();
  return row?.value;
}

async function taskTry(runPk: number): Promise<{ state: string | null; try_number: number; error: { message: string } | null }[]> {
  return setup.engine.db
    .selectFrom('tributary.task_try as tt')
    .innerJoin('tributary.task_instance as t', 't.id', 'tt.ti_id')
    .select(['tt.state', 'tt.try_number', 'tt.error'])
    .where('t.run_pk', '=', runPk)
    .orderBy('tt.try_number')
    .execute() as never;
}

/** A pod that runs and succeeds with `message` as its termination message. */
function succeeds(message: string, lines: string[] = []) {
  return async (pod: FakePod): Promise<void> => {
    pod.schedule();
    await sleep(20);
    pod.start();
    for (const line of lines) pod.log(line);
    await sleep(50);
    pod.terminate(0, { message });
  };
}

describe('the kubernetesPod operator', () => {
  it('creates a labelled pod, streams its log and takes the termination message as the result', async () => {
    cluster.onCreate = succeeds('{"score": 87, "county": "King"}', ['loading parcels', 'scored 12 parcels']);
    const result = await runDagToCompletion(setup.engine, 'pod_success');
    expect(result.state).toBe('success');
    expect(await xcom(result.run.id)).toEqual({ score: 87, county: 'King' });
    expect(cluster.created).toHaveLength(1);
    const pod = cluster.created[0]!;
    expect(pod.raw.metadata!.namespace).toBe('tasks'); // the context's namespace
    expect(pod.raw.metadata!.labels).toEqual({
      team: 'deals',
      'app.kubernetes.io/managed-by': 'tributary',
      'tributary.io/kind': 'operator',
      'tributary.io/dag-id': 'pod_success',
      'tributary.io/run-id': expect.stringMatching(/^test__\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d.\d{3}Z__[0-9a-f]{8}-[0-9a-f]{8}$/),
      'tributary.io/task-id': 'job',
      'tributary.io/map-index': 'none',
      'tributary.io/try-number': '1',
    });
    expect(pod.raw.metadata!.annotations).toMatchObject({ note: 'hi', 'tributary.io/run-id': result.run.run_id, 'tributary.io/task-id': 'job' });
    expect(pod.raw.spec).toMatchObject({
      restartPolicy: 'Never',
      serviceAccountName: 'scorer',
      imagePullSecrets: [{ name: 'registry' }],
      nodeSelector: { pool: 'batch' },
      tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        {
          name: 'base',
          image: 'registry.example.com/scoring:1.4',
          command: ['score'],
          args: ['--county', 'King County, WA'],
          env: [{ name: 'MODE', value: 'full' }, { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'scoring', key: 'api-key' } } }],
          envFrom: [{ configMapRef: { name: 'scoring-config' } }],
          resources: { requests: { cpu: '500m', memory: '1Gi' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
    });
    const log = await taskLog(result.run.id);
    expect(log).toEqual(expect.arrayContaining([expect.stringMatching(/^Created pod tasks\/job-[0-9a-f]{8}-1 \(image registry/), 'loading parcels', 'scored 12 parcels']));
    expect(log.indexOf('loading parcels')).toBeLessThan(log.indexOf('scored 12 parcels'));
    await eventually(async () => !pod.exists, 5_000, 'the pod to be deleted (onFinish: delete)');
    expect(cluster.deleted).toEqual([pod.key]);
  });

  it.each([
    ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/nope:1": not found'],
    ['ImagePullBackOff', 'Back-off pulling image "registry.example.com/nope:1"'],
    ['InvalidImageName', 'Failed to apply default image tag "registry.example.com/nope:1": couldn\'t parse image name'],
    ['CreateContainerConfigError', 'secret "scoring" not found'],
  ])('fails fast on %s with the reason and removes the pod', async (reason, message) => {
    cluster.onCreate = async (pod) => {
      pod.schedule();
      await sleep(20);
      pod.waiting(reason, message);
    };
    const started = Date.now();
    const result = await runDagToCompletion(setup.engine, 'pod_image');
    expect(result.state).toBe('failed');
    expect(Date.now() - started, 'long before the 120 s startup timeout').toBeLessThan(30_000);
    const [tried] = await taskTry(result.run.id);
    expect(tried!.error!.message).toMatch(new RegExp(`^pod tasks/job-[0-9a-f]{8}-1: container 'base' cannot start: ${reason}: `));
    expect(tried!.error!.message).toContain(message);
    await eventually(async () => !cluster.created[0]!.exists, 5_000, 'the pod to be deleted');
  });

  it('fails an unschedulable pod after its startup timeout, with the scheduler\'s reason', async () => {
    cluster.onCreate = (pod) => pod.unschedulable();
    const result = await runDagToCompletion(setup.engine, 'pod_pending');
    expect(result.state).toBe('failed');
    const [tried] = await taskTry(result.run.id);
    expect(tried!.error!.message).toMatch(
      /^pod tasks\/job-\w+-1: still pending after the startup timeout of 1 s: Unschedulable: 0\/3 nodes are available: 3 Insufficient cpu/,
    );
    expect(await taskLog(result.run.id)).toEqual(expect.arrayContaining([expect.stringMatching(/is pending: Unschedulable: 0\/3 nodes/)]));
    await eventually(async () => !cluster.created[0]!.exists, 5_000, 'the pod to be deleted');
  });

  it('fails with the exit code and the last log lines; a failed pod is kept (deleteOnSuccess) and labelled checked', async () => {
    cluster.onCreate = async (pod) => {
      pod.start();
      for (let i = 1; i <= 5; i++) pod.log(`step ${i}`);
      pod.log('Traceback: KeyError: parcel_id');
      await sleep(30);
      pod.terminate(2, { message: 'KeyError: parcel_id' });
    };
    const result = await runDagToCompletion(setup.engine, 'pod_failing');
    expect(result.state).toBe('failed');
    const [tried] = await taskTry(result.run.id);
    expect(tried!.error!.message).toBe(
      `pod ${cluster.created[0]!.key}: container 'base' failed: Error (exit code 2)\nTermination message: KeyError: parcel_id\n` +
        'Last 3 log line(s):\n  step 4\n  step 5\n  Traceback: KeyError: parcel_id',
    );
    const pod = cluster.created[0]!;
    expect(pod.exists).toBe(true);
    await eventually(async () => pod.raw.metadata!.labels!['tributary.io/checked'] === 'true', 5_000, 'the pod to be labelled checked');
    expect(cluster.deleted).toEqual([]);
  });

  it('streams log lines into the task log while the pod runs, resuming a cut stream without duplicates', async () => {
    cluster.cutLogStreamsAfter = 2;
    let pod!: FakePod;
    cluster.onCreate = (p) => {
      pod = p;
      p.start();
    };
    const running = runDagToCompletion(setup.engine, 'pod_streaming');
    await eventually(async () => pod, 10_000, 'the pod');
    const runPk = await eventually(async () => (await setup.engine.db.selectFrom('tributary.dag_run').select('id').where('dag_id', '=', 'pod_streaming').executeTakeFirst())?.id);
    for (let i = 1; i <= 5; i++) pod.log(`progress ${i}`);
    await eventually(async () => (await taskLog(runPk)).includes('progress 5'), 15_000, 'the lines to reach the task log before the pod ends');
    pod.log('progress 6');
    pod.terminate(0, { message: '"done"' });
    const result = await running;
    expect(result.state).toBe('success');
    expect((await taskLog(runPk)).filter((l) => l.startsWith('progress'))).toEqual(['progress 1', 'progress 2', 'progress 3', 'progress 4', 'progress 5', 'progress 6']);
    expect(cluster.requests.filter((r) => r.path.endsWith('/log')).length).toBeGreaterThan(1);
  });

  it('deletes the pod when the task times out', async () => {
    cluster.onCreate = (pod) => pod.start();
    const result = await runDagToCompletion(setup.engine, 'pod_slow');
    expect(result.state).toBe('failed');
    const [tried] = await taskTry(result.run.id);
    expect(tried!.error!.message).toBe("DAG 'pod_slow': task 'job' timed out after 1500 ms");
    await eventually(async () => cluster.deleted.includes(cluster.created[0]!.key), 5_000, 'the pod to be deleted');
  });

  it('deletes the pod when the task is cleared, and runs a fresh one', async () => {
    cluster.onCreate = (pod) => (cluster.created.length === 1 ? pod.start() : void succeeds('"second"')(pod));
    const running = runDagToCompletion(setup.engine, 'pod_clear');
    await eventually(async () => cluster.created[0]?.raw.status?.phase === 'Running', 10_000, 'the first pod to run');
    const run = await setup.engine.db.selectFrom('tributary.dag_run').select(['id', 'run_id']).where('dag_id', '=', 'pod_clear').executeTakeFirstOrThrow();
    await eventually(async () => (await taskLog(run.id)).some((l) => l.includes('is running')));
    await clearTaskInstances(setup.engine.context, { dagId: 'pod_clear', runId: run.run_id, taskIds: ['job'] }, { name: 'tester', origin: 'test' });
    await eventually(async () => cluster.created.length === 2, 20_000, `a second pod (log: ${(await taskLog(run.id)).join(' | ')})`);
    const result = await running;
    expect(result.state).toBe('success');
    expect(cluster.deleted[0]).toBe(cluster.created[0]!.key);
    expect(cluster.created).toHaveLength(2);
    expect(await xcom(run.id)).toBe('second');
    // Whichever comes first deletes the old pod: the old try seeing its state changed, or the new try
    // finding it left running by a try that was stopped on purpose (it is never reattached).
    const deletion = /^Task stopped \(.*state was changed.*\): deleting pod tasks\/job-\w+-1$|^Deleting pod tasks\/job-\w+-1 left running by try 1 \(that try was stopped\)$/;
    expect((await taskLog(run.id)).filter((l) => deletion.test(l)).length).toBeGreaterThan(0);
    expect(await taskLog(run.id, 2)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^Reattached/)]));
  });
});

describe('reattaching after a worker restart', () => {
  it('a worker shutting down leaves the pod running; the next try follows it (one pod in all)', async () => {
    const { engine } = setup;
    let pod!: FakePod;
    cluster.onCreate = (p) => {
      pod = p;
      p.start();
      p.log('first half');
    };
    const run = await engine.trigger('pod_restart');
    const first = await engine.startWorker();
    await eventually(async () => (await taskLog(run.id, 1)).includes('first half'), 15_000, 'the pod to run');
    await engine.stopWorker(first);
    expect(pod.exists).toBe(true);
    expect((await taskTry(run.id))[0]).toMatchObject({ state: 'failed', try_number: 1 });
    const second = await engine.startWorker();
    try {
      await eventually(async () => (await taskLog(run.id, 2)).some((l) => l.startsWith('Reattached to pod')), 15_000, 'try 2 to reattach');
      pod.log('second half');
      pod.terminate(0, { message: '{"rows": 12}' });
      expect(await waitForRun(engine.db, run.id, { timeoutMs: 15_000 })).toBe('success');
    } finally {
      await engine.stopWorker(second);
    }
    expect(cluster.created).toHaveLength(1);
    expect(cluster.count('POST')).toBe(1);
    expect(await xcom(run.id)).toEqual({ rows: 12 });
    expect(await taskLog(run.id, 1)).toEqual(expect.arrayContaining([expect.stringMatching(/^Worker shutting down: pod tasks\/job-\w+-1 keeps running/)]));
    const second_ = await taskLog(run.id, 2);
    expect(second_).toEqual(expect.arrayContaining([expect.stringMatching(/^Reattached to pod tasks\/job-\w+-1 started by try 1 \(Running\)/), 'first half', 'second half']));
  });

  it('a worker that is killed: the scheduler fails its try as a zombie and the retry reattaches (one pod in all)', async () => {
    const { engine } = setup;
    let pod!: FakePod;
    cluster.onCreate = (p) => {
      pod = p;
      p.start();
      p.log('working');
    };
    const worker = spawn(process.execPath, [join(PACKAGE_DIR, 'bin/tributary.js'), 'worker', '--dags-folder', folder.dir, '--database-url', setup.database.url], {
      cwd: PACKAGE_DIR,
      env: {
        ...process.env,
        DATABASE_URL: '',
        TRIBUTARY_LOG_LEVEL: 'warn',
        TRIBUTARY_K8S_KUBECONFIG: cluster.kubeconfigPath,
        TRIBUTARY_K8S_CONTEXT: 'fake',
        TRIBUTARY_HEARTBEAT_INTERVAL_MS: '500',
        TRIBUTARY_HEARTBEAT_TIMEOUT_MS: '3000',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const run = await engine.trigger('pod_crash');
      await eventually(async () => pod?.raw.status?.phase === 'Running' && (await taskLog(run.id, 1)).includes('working'), 45_000, `the pod to run (worker stderr: ${stderr})`);
      worker.kill('SIGKILL');
      engine.startScheduler();
      const second = await engine.startWorker();
      try {
        await eventually(async () => (await taskLog(run.id, 2)).some((l) => l.startsWith('Reattached to pod')), 30_000, 'the retry to reattach');
        pod.terminate(0, { message: '[1, 2, 3]' });
        expect(await waitForRun(engine.db, run.id, { timeoutMs: 15_000 })).toBe('success');
      } finally {
        await engine.stopWorker(second);
      }
      const tries = await taskTry(run.id);
      expect(tries[0]!.error!.message).toMatch(/stopped heart-beating/);
      expect(cluster.count('POST')).toBe(1);
      expect(await xcom(run.id)).toEqual([1, 2, 3]);
      expect((await listTaskInstances(engine.db, run.id))[0]).toMatchObject({ state: 'success', tryNumber: 2 });
    } finally {
      worker.kill('SIGKILL');
    }
  });
});

describe('kubernetesPod arguments', () => {
  it('are checked where the DAG is defined, naming the field', () => {
    expect(() => kubernetesPod({ image: '' })).toThrow("kubernetesPod(): option 'image': expected a non-empty string");
    expect(() => kubernetesPod({ image: 'a', onFinish: 'never' as never })).toThrow("kubernetesPod(): option 'onFinish'");
    expect(() => kubernetesPod({ image: 'a', labels: { team: 'has spaces' } })).toThrow("kubernetesPod(): option 'labels.team': expected a Kubernetes label value");
    expect(() => kubernetesPod({ image: 'a', startupTimeout: 'soon' })).toThrow("kubernetesPod(): option 'startupTimeout'");
    expect(() => kubernetesPod({ image: 'a', cpu: 1 } as never)).toThrow("kubernetesPod(): unknown option(s) 'cpu'");
  });
});
