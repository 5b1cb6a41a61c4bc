import { z } from 'zod';
import { durationToMs } from '../dag/duration.js';
import type { Duration } from '../dag/types.js';

/** An environment variable's value: literal text, or a key of a Secret or ConfigMap. */
export type PodEnvValue = string | { secret: string; key: string; optional?: boolean } | { configMap: string; key: string; optional?: boolean };

/** Every variable of a Secret or ConfigMap as environment variables, optionally prefixed. */
export type PodEnvFrom = { secret: string; prefix?: string; optional?: boolean } | { configMap: string; prefix?: string; optional?: boolean };

/** What to do with a pod once the task is done with it. */
export type PodOnFinish = 'delete' | 'keep' | 'deleteOnSuccess';

/**
 * Pod settings shared by the `kubernetesPod` operator, the `kubernetes` executor's configuration and a
 * task's `executorConfig`. Kubernetes objects (tolerations, affinity, volumes) use the API's own JSON
 * shapes; the API server validates them when the pod is created and its message is reported.
 */
export interface PodOptions {
  /** Namespace of the pod. @defaultValue the engine's `kubernetes.namespace` */
  namespace?: string;
  /** Container image. */
  image?: string;
  /** @defaultValue Kubernetes' default (`IfNotPresent`, or `Always` for `:latest`) */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Environment variables: text, or `{ secret, key }` / `{ configMap, key }` references. */
  env?: Record<string, PodEnvValue>;
  /** Whole Secrets and ConfigMaps as environment variables. */
  envFrom?: PodEnvFrom[];
  /** CPU and memory requests and limits, e.g. `{ requests: { cpu: '500m', memory: '1Gi' } }`. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Extra labels of the pod (Tributary's own identify the task instance). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  /** `V1Toleration` objects. */
  tolerations?: Record<string, unknown>[];
  /** A `V1Affinity` object. */
  affinity?: Record<string, unknown>;
  /** `V1Volume` objects. */
  volumes?: ({ name: string } & Record<string, unknown>)[];
  /** `V1VolumeMount` objects for the task's container. */
  volumeMounts?: ({ name: string; mountPath: string } & Record<string, unknown>)[];
  serviceAccountName?: string;
  /** Names of Secrets holding registry credentials. */
  imagePullSecrets?: string[];
  /**
   * Longest the pod may stay pending (unscheduled, pulling its image) before the try fails.
   * @defaultValue the engine's `kubernetes.startupTimeout` (`'120s'`)
   */
  startupTimeout?: Duration;
  /**
   * What happens to the pod when the task is done with it: `delete`, `keep`, or `deleteOnSuccess`
   * (keep failed pods to inspect).
   * @defaultValue `'delete'` for `kubernetesPod`, `'deleteOnSuccess'` for the `kubernetes` executor
   */
  onFinish?: PodOnFinish;
}

/** Arguments of the `kubernetesPod` operator. */
export interface KubernetesPodArgs extends PodOptions {
  /** Container image (required). */
  image: string;
  /** Prefix of the pod name. @defaultValue the task id */
  name?: string;
  /** The container's entrypoint (Kubernetes `command`). @defaultValue the image's */
  command?: string[];
  /** Arguments (Kubernetes `args`). @defaultValue the image's */
  args?: string[];
  workingDir?: string;
  /** @defaultValue `'base'` */
  containerName?: string;
  /**
   * After a worker restart, follow the pod an earlier try started for this task instance (found by
   * its labels) instead of starting another.
   * @defaultValue true
   */
  reattachOnRestart?: boolean;
  /**
   * Where the task's result comes from: the JSON the container wrote to `/dev/termination-log`, or nothing.
   * @defaultValue `'terminationMessage'`
   */
  result?: 'terminationMessage' | 'none';
  /**
   * Log lines quoted in the error of a failed pod.
   * @defaultValue 20
   */
  errorLogLines?: number;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const nonEmpty = z.string().min(1, 'expected a non-empty string');
const stringMap = z.record(z.string(), z.string());
const duration = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  const ms = durationToMs(value);
  if (typeof ms === 'string') ctx.addIssue({ code: 'custom', message: ms });
  else if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
});
const envValue = z.union([
  z.string(),
  z.object({ secret: nonEmpty, key: nonEmpty, optional: z.boolean().optional() }).strict(),
  z.object({ configMap: nonEmpty, key: nonEmpty, optional: z.boolean().optional() }).strict(),
]);
const envFrom = z.union([
  z.object({ secret: nonEmpty, prefix: z.string().optional(), optional: z.boolean().optional() }).strict(),
  z.object({ configMap: nonEmpty, prefix: z.string().optional(), optional: z.boolean().optional() }).strict(),
]);
const quantities = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

const podOptionsShape = {
  namespace: z.string().regex(DNS_LABEL, 'expected a namespace name: lower-case letters, digits and -').optional(),
  image: nonEmpty.optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  env: z
    .record(z.string().regex(ENV_NAME, 'expected an environment variable name'), envValue)
    .optional(),
  envFrom: z.array(envFrom).optional(),
  resources: z.object({ requests: quantities.optional(), limits: quantities.optional() }).strict().optional(),
  labels: z
    .record(z.string().regex(LABEL_KEY, 'expected a Kubernetes label key'), z.string().regex(LABEL_VALUE, 'expected a Kubernetes label value (63 characters at most: letters, digits, -, _ and .)'))
    .optional(),
  annotations: stringMap.optional(),
  nodeSelector: stringMap.optional(),
  tolerations: z.array(z.record(z.string(), z.unknown())).optional(),
  affinity: z.record(z.string(), z.unknown()).optional(),
  volumes: z.array(z.looseObject({ name: nonEmpty })).optional(),
  volumeMounts: z.array(z.looseObject({ name: nonEmpty, mountPath: nonEmpty })).optional(),
  serviceAccountName: nonEmpty.optional(),
  imagePullSecrets: z.array(nonEmpty).optional(),
  startupTimeout: duration.optional(),
  onFinish: z.enum(['delete', 'keep', 'deleteOnSuccess']).optional(),
};

/** Schema of {@link PodOptions}. @internal */
export const podOptionsSchema = z.object(podOptionsShape).strict();

/** Schema of {@link KubernetesPodArgs}. @internal */
export const kubernetesPodArgsSchema = z
  .object({
    ...podOptionsShape,
    image: nonEmpty,
    name: z.string().regex(DNS_LABEL, 'expected a pod name prefix: lower-case letters, digits and -').max(40).optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    workingDir: nonEmpty.optional(),
    containerName: z.string().regex(DNS_LABEL, 'expected a container name: lower-case letters, digits and -').optional(),
    reattachOnRestart: z.boolean().optional(),
    result: z.enum(['terminationMessage', 'none']).optional(),
    errorLogLines: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

/** A problem found by a validator: the dotted path of the field and what is wrong with it. */
export interface OptionProblem {
  path: string;
  message: string;
}

/** The first problem of a failed zod parse, as a path and message. @internal */
export function firstProblem(error: z.ZodError): OptionProblem {
  const issue = error.issues[0]!;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown option(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return { path: issue.path.join('.'), message };
}

/**
 * Check a task's `executorConfig` (the `kubernetes` executor's pod overrides); returns the first
 * problem, or null when it is valid.
 */
export function validateExecutorConfig(value: unknown): OptionProblem | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { path: '', message: `expected an object of pod settings, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  }
  const parsed = podOptionsSchema.safeParse(value);
  return parsed.success ? null : firstProblem(parsed.error);
}

/** Parse `kubernetesPod` arguments, or describe the first problem. @internal */
export function parseKubernetesPodArgs(value: unknown): { args: KubernetesPodArgs } | { problem: OptionProblem } {
  const parsed = kubernetesPodArgsSchema.safeParse(value);
  return parsed.success ? { args: parsed.data as KubernetesPodArgs } : { problem: firstProblem(parsed.error) };
}
