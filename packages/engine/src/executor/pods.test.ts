import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { dag } from '../dag/dag.js';
import { serializeDag } from '../dag/serialize.js';
import { ConfigError } from '../errors.js';
import { Executors } from './executors.js';
import type { Executor } from './executor.js';
import { resolveKubernetesConfig } from './kubernetes-config.js';
import { LogLineSplitter, timestampKey } from './pod-logs.js';
import { buildPod, instanceSelector, mergePodOptions, podName, toLabelValue } from './pod-spec.js';
import { classifyPod } from './pod-status.js';

const identity = { dagId: 'deals', runId: 'manual__2024-05-01T10:00:00+00:00', taskId: 'score.county', mapIndex: 3, tryNumber: 2 };

describe('pod labels and names', () => {
  it('keeps valid label values and makes others valid without collisions', () => {
    expect(toLabelValue('deals_v2.daily')).toBe('deals_v2.daily');
    const run = toLabelValue('manual__2024-05-01T10:00:00+00:00');
    expect(run).toMatch(/^manual__2024-05-01T10_00_00_00_00-[0-9a-f]{8}$/);
    expect(toLabelValue('manual__2024-05-01T10:00:00+01:00')).not.toBe(run);
    const long = toLabelValue('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(toLabelValue('-leading')).toMatch(/^leading-[0-9a-f]{8}$/);
  });

  it('selects an instance by labels of every try; names are DNS labels, one per try', () => {
    expect(instanceSelector(identity, 'operator')).toBe(
      `app.kubernetes.io/managed-by=tributary,tributary.io/kind=operator,tributary.io/dag-id=deals,tributary.io/run-id=${toLabelValue(identity.runId)},tributary.io/task-id=score.county,tributary.io/map-index=3`,
    );
    expect(instanceSelector({ ...identity, mapIndex: -1 }, 'executor')).toContain('tributary.io/map-index=none');
    const name = podName(identity);
    expect(name).toMatch(/^score-county-[0-9a-f]{8}-2$/);
    expect(podName({ ...identity, tryNumber: 3 })).not.toBe(name);
    expect(podName(identity, 'Scoring_Job')).toMatch(/^scoring-job-/);
    expect(podName({ ...identity, taskId: 'a'.repeat(200) }).length).toBeLessThanOrEqual(63);
  });

  it('builds a pod: user labels cannot override the identifying ones; env references Secrets and ConfigMaps', () => {
    const pod = buildPod({
      identity,
      kind: 'operator',
      name: 'p',
      namespace: 'ns',
      image: 'img:1',
      containerName: 'base',
      options: {
        labels: { 'tributary.io/dag-id': 'spoofed', team: 'a' },
        env: { A: 'x', B: { configMap: 'cm', key: 'k', optional: true } },
        envFrom: [{ secret: 's', prefix: 'S_' }],
      },
    });
    expect(pod.metadata!.labels!['tributary.io/dag-id']).toBe('deals');
    expect(pod.metadata!.annotations).toMatchObject({ 'tributary.io/run-id': identity.runId, 'tributary.io/try-number': '2' });
    expect(pod.spec!.containers[0]).toEqual({
      name: 'base',
      image: 'img:1',
      env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: true } } }],
      envFrom: [{ prefix: 'S_', secretRef: { name: 's', optional: undefined } }],
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    });
  });

  it('merges per-task overrides over the defaults, maps key by key', () => {
    expect(mergePodOptions({ image: 'a', labels: { x: '1' }, nodeSelector: { pool: 'default' } }, { image: 'b', labels: { y: '2' } })).toEqual({
      image: 'b',
      labels: { x: '1', y: '2' },
      nodeSelector: { pool: 'default' },
    });
  });
});

const status = (s: object): V1Pod => ({ metadata: { name: 'p', namespace: 'n' }, status: s }) as V1Pod;
const container = (state: object) => [{ name: 'base', image: 'i', imageID: '', ready: false, restartCount: 0, state }];

describe('classifyPod', () => {
  it('reads pending reasons, fatal waits, running and terminations', () => {
    expect(classifyPod(status({ phase: 'Pending' }), 'base')).toEqual({ kind: 'pending', detail: 'Pending' });
    expect(
      classifyPod(status({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' }] }), 'base'),
    ).toEqual({ kind: 'pending', detail: 'Unschedulable: 0/1 nodes' });
    expect(classifyPod(status({ phase: 'Pending', containerStatuses: container({ waiting: { reason: 'ContainerCreating' } }) }), 'base')).toEqual({
      kind: 'pending',
      detail: 'ContainerCreating',
    });
    expect(classifyPod(status({ phase: 'Pending', containerStatuses: container({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off' } }) }), 'base')).toEqual({
      kind: 'cannotStart',
      reason: 'ImagePullBackOff',
      message: 'Back-off',
    });
    expect(classifyPod(status({ phase: 'Running', containerStatuses: container({ running: {} }) }), 'base')).toEqual({ kind: 'running' });
    expect(classifyPod(status({ phase: 'Succeeded', containerStatuses: container({ terminated: { exitCode: 0, message: '{"a":1}' } }) }), 'base')).toEqual({
      kind: 'succeeded',
      exitCode: 0,
      terminationMessage: '{"a":1}',
    });
    expect(classifyPod(status({ phase: 'Failed', containerStatuses: container({ terminated: { exitCode: 137, reason: 'OOMKilled' } }) }), 'base')).toEqual({
      kind: 'failed',
      reason: 'OOMKilled',
      message: '',
      exitCode: 137,
      terminationMessage: null,
    });
    expect(classifyPod(status({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }), 'base')).toMatchObject({
      kind: 'failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
      exitCode: null,
    });
  });
});

describe('LogLineSplitter', () => {
  it('splits chunks into lines and drops the repeated second of a resumed stream', () => {
    const lines: string[] = [];
    const splitter = new LogLineSplitter((l) => lines.push(l));
    splitter.push('2024-05-01T10:00:00.1Z a\n2024-05-01T10:00:00.2Z b\r\n2024-05-01T10:00');
    splitter.push(':01.5Z c\n');
    expect(splitter.resumeFrom).toBe('2024-05-01T10:00:01Z');
    splitter.resume();
    splitter.push('2024-05-01T10:00:01.5Z c\n2024-05-01T10:00:01.7Z d\n2024-05-01T10:00:02Z e');
    splitter.end();
    expect(lines).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(timestampKey('2024-05-01T10:00:00.123456789Z')! > timestampKey('2024-05-01T10:00:00.12Z')!).toBe(true);
  });
});

describe('resolveKubernetesConfig', () => {
  it('reads environment variables, options win; errors name the field', () => {
    const env = { TRIBUTARY_K8S_IN_CLUSTER: 'true', TRIBUTARY_K8S_NAMESPACE: 'jobs', TRIBUTARY_K8S_IMAGE: 'img:1', TRIBUTARY_K8S_ENV_FROM: 'secret/db, configmap/cfg' };
    expect(resolveKubernetesConfig({ namespace: 'other' }, env)).toMatchObject({
      inCluster: true,
      namespace: 'other',
      image: 'img:1',
      startupTimeoutMs: 120_000,
      pod: { envFrom: [{ secret: 'db' }, { configMap: 'cfg' }] },
    });
    expect(() => resolveKubernetesConfig({}, { TRIBUTARY_K8S_ENV_FROM: 'vault/x' })).toThrow("config 'TRIBUTARY_K8S_ENV_FROM': expected comma-separated");
    expect(() => resolveKubernetesConfig({ startupTimeout: 'later' }, {})).toThrow(ConfigError);
    expect(() => resolveKubernetesConfig({ pod: { resources: { cpu: 1 } } } as never, {})).toThrow("config 'kubernetes.pod.resources': unknown option(s) 'cpu'");
    expect(() => resolveKubernetesConfig({}, { TRIBUTARY_K8S_IN_CLUSTER: 'yes' })).toThrow("config 'TRIBUTARY_K8S_IN_CLUSTER': expected true or false");
  });
});

describe('the executor option of tasks', () => {
  it('is validated and serialized; executorConfig is checked field by field', () => {
    const d = dag({ id: 'x' });
    d.task('k', { executor: 'kubernetes', executorConfig: { image: 'img:2', resources: { limits: { memory: '1Gi' } } } }, () => 1);
    d.task('l', () => 2);
    const tasks = serializeDag(d).tasks;
    expect(tasks.map((t) => [t.executor, t.executorConfig])).toEqual([
      ['kubernetes', { image: 'img:2', resources: { limits: { memory: '1Gi' } } }],
      ['local', null],
    ]);
    expect(() => d.task('m', { executor: 'celery' as never }, () => 1)).toThrow("DAG 'x': task 'm': option 'executor': unknown executor 'celery' (expected one of local, thread, kubernetes)");
    expect(() => d.task('n', { executorConfig: { nodeSelector: { pool: 3 } } as never }, () => 1)).toThrow("option 'executorConfig.nodeSelector.pool'");
  });

  it('selects the executor a task names, and says how to get one that is missing', () => {
    const local = { name: 'local', execute: async () => 'local' } satisfies Executor;
    const task = serializeDag(
      (() => {
        const d = dag({ id: 'x' });
        d.task('k', { executor: 'kubernetes' }, () => 1);
        return d;
      })(),
    ).tasks[0]!;
    expect(() => new Executors([local]).select(task, 'x')).toThrow(
      "DAG 'x': task 'k' runs with the 'kubernetes' executor, which this worker does not have: configure it with kubernetes.image",
    );
    expect(new Executors([local], local).select(task, 'x')).toBe(local);
  });
});
