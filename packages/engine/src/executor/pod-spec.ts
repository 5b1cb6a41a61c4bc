import { createHash } from 'node:crypto';
import type { V1Container, V1EnvFromSource, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import type { PodEnvFrom, PodEnvValue, PodOptions } from './kubernetes-options.js';

/** The task instance and try a pod belongs to. */
export interface PodIdentity {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

/** Which part of Tributary started a pod. */
export type PodKind = 'operator' | 'executor';

/** Label and annotation keys Tributary puts on its pods. */
export const POD_LABELS = Object.freeze({
  managedBy: 'app.kubernetes.io/managed-by',
  kind: 'tributary.io/kind',
  dagId: 'tributary.io/dag-id',
  runId: 'tributary.io/run-id',
  taskId: 'tributary.io/task-id',
  mapIndex: 'tributary.io/map-index',
  tryNumber: 'tributary.io/try-number',
  /** Set on a kept pod once a try has taken its outcome, so no later try reattaches to it. */
  checked: 'tributary.io/checked',
});

const MANAGED_BY = 'tributary';
const LABEL_MAX = 63;

function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * A valid label value for `value`: kept as is when it already is one; otherwise invalid characters
 * become `_`, and a hash of the original is appended so that different ids never share a label value.
 */
export function toLabelValue(value: string): string {
  if (value.length <= LABEL_MAX && /^(|[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/.test(value)) return value;
  const cleaned = value.replace(/[^-A-Za-z0-9_.]/g, '_');
  const head = cleaned.slice(0, LABEL_MAX - 9).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return `${head}${head ? '-' : ''}${shortHash(value)}`;
}

/** The map-index label: the index of a mapped task's instance, `none` for an unmapped task (`-1` is not a valid label value). */
export function mapIndexLabel(mapIndex: number): string {
  return mapIndex < 0 ? 'none' : String(mapIndex);
}

/** Labels identifying a task instance (and, with `withTry`, its try). */
export function instanceLabels(identity: PodIdentity, kind: PodKind, withTry = true): Record<string, string> {
  const labels: Record<string, string> = {
    [POD_LABELS.managedBy]: MANAGED_BY,
    [POD_LABELS.kind]: kind,
    [POD_LABELS.dagId]: toLabelValue(identity.dagId),
    [POD_LABELS.runId]: toLabelValue(identity.runId),
    [POD_LABELS.taskId]: toLabelValue(identity.taskId),
    [POD_LABELS.mapIndex]: mapIndexLabel(identity.mapIndex),
  };
  if (withTry) labels[POD_LABELS.tryNumber] = String(identity.tryNumber);
  return labels;
}

/** Annotations with the exact (unsanitized) ids, to confirm a pod found by labels really is the instance's. */
export function instanceAnnotations(identity: PodIdentity): Record<string, string> {
  return {
    [POD_LABELS.dagId]: identity.dagId,
    [POD_LABELS.runId]: identity.runId,
    [POD_LABELS.taskId]: identity.taskId,
    [POD_LABELS.mapIndex]: String(identity.mapIndex),
    [POD_LABELS.tryNumber]: String(identity.tryNumber),
  };
}

/** A label selector (`k=v,k=v`) for the pods of a task instance, of every try. */
export function instanceSelector(identity: PodIdentity, kind: PodKind): string {
  return Object.entries(instanceLabels(identity, kind, false))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** True when the pod's annotations name exactly this task instance (labels may be hashed). */
export function belongsTo(pod: V1Pod, identity: PodIdentity): boolean {
  const a = pod.metadata?.annotations ?? {};
  return (
    a[POD_LABELS.dagId] === identity.dagId &&
    a[POD_LABELS.runId] === identity.runId &&
    a[POD_LABELS.taskId] === identity.taskId &&
    a[POD_LABELS.mapIndex] === String(identity.mapIndex)
  );
}

/** The try that started a pod, from its labels. */
export function podTryNumber(pod: V1Pod): number {
  return Number(pod.metadata?.labels?.[POD_LABELS.tryNumber] ?? 0);
}

/**
 * The pod's name: a readable prefix (the task id), a hash of the task instance and the try number.
 * Deterministic, so a second create for the same try is refused by the API server (409) instead of
 * starting a duplicate.
 */
export function podName(identity: PodIdentity, prefix?: string): string {
  const readable = (prefix ?? identity.taskId)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const hash = shortHash(`${identity.dagId}\u0000${identity.runId}\u0000${identity.taskId}\u0000${identity.mapIndex}`);
  return `${readable || 'task'}-${hash}-${identity.tryNumber}`.slice(0, LABEL_MAX);
}

function envVars(env: Record<string, PodEnvValue> | undefined): V1EnvVar[] | undefined {
  if (!env) return undefined;
  return Object.entries(env).map(([name, value]): V1EnvVar => {
    if (typeof value === 'string') return { name, value };
    if ('secret' in value) return { name, valueFrom: { secretKeyRef: { name: value.secret, key: value.key, optional: value.optional } } };
    return { name, valueFrom: { configMapKeyRef: { name: value.configMap, key: value.key, optional: value.optional } } };
  });
}

function envFromSources(sources: readonly PodEnvFrom[] | undefined): V1EnvFromSource[] | undefined {
  if (!sources) return undefined;
  return sources.map((source): V1EnvFromSource =>
    'secret' in source
      ? { prefix: source.prefix, secretRef: { name: source.secret, optional: source.optional } }
      : { prefix: source.prefix, configMapRef: { name: source.configMap, optional: source.optional } },
  );
}

/** Everything that decides a pod's spec. */
export interface PodSpecInput {
  identity: PodIdentity;
  kind: PodKind;
  name: string;
  namespace: string;
  image: string;
  containerName: string;
  command?: readonly string[];
  args?: readonly string[];
  workingDir?: string;
  /** Pod settings; for the executor, the engine's defaults merged with the task's overrides. */
  options: PodOptions;
}

/**
 * The pod that runs one try: `restartPolicy: Never` (retries are Tributary's), Tributary's labels and
 * annotations on top of the user's, and a termination message read from `/dev/termination-log`.
 */
export function buildPod(input: PodSpecInput): V1Pod {
  const { options } = input;
  const container: V1Container = {
    name: input.containerName,
    image: input.image,
    imagePullPolicy: options.imagePullPolicy,
    command: input.command ? [...input.command] : undefined,
    args: input.args ? [...input.args] : undefined,
    workingDir: input.workingDir,
    env: envVars(options.env),
    envFrom: envFromSources(options.envFrom),
    resources: options.resources,
    volumeMounts: options.volumeMounts as V1Container['volumeMounts'],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...options.labels, ...instanceLabels(input.identity, input.kind) },
      annotations: { ...options.annotations, ...instanceAnnotations(input.identity) },
    },
    spec: {
      restartPolicy: 'Never',
      containers: [stripUndefined(container)],
      serviceAccountName: options.serviceAccountName,
      imagePullSecrets: options.imagePullSecrets?.map((name) => ({ name })),
      nodeSelector: options.nodeSelector,
      tolerations: options.tolerations as NonNullable<V1Pod['spec']>['tolerations'],
      affinity: options.affinity as NonNullable<V1Pod['spec']>['affinity'],
      volumes: options.volumes as NonNullable<V1Pod['spec']>['volumes'],
    },
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Merge pod settings: `override`'s fields replace `base`'s, except maps (env, labels, annotations,
 * node selector) which are merged key by key.
 */
export function mergePodOptions(base: PodOptions, override: PodOptions | null | undefined): PodOptions {
  if (!override) return { ...base };
  const merged: PodOptions = { ...base, ...override };
  for (const key of ['env', 'labels', 'annotations', 'nodeSelector'] as const) {
    if (base[key] || override[key]) (merged as Record<string, unknown>)[key] = { ...base[key], ...override[key] };
  }
  return merged;
}
