import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { durationToMs } from '../dag/duration.js';
import type { Duration } from '../dag/types.js';
import { ConfigError } from '../errors.js';
import { firstProblem, podOptionsSchema, type PodEnvFrom, type PodOptions } from './kubernetes-options.js';

/**
 * How Tributary reaches a Kubernetes cluster and what its pods look like by default. Used by the
 * `kubernetes` executor (every setting) and the `kubernetesPod` operator (connection, namespace,
 * startup timeout).
 */
export interface KubernetesConfig {
  /**
   * Use the service account of the pod this process runs in.
   * @defaultValue `$TRIBUTARY_K8S_IN_CLUSTER` is `true`, else false
   */
  inCluster?: boolean;
  /**
   * Path of a kubeconfig file.
   * @defaultValue `$TRIBUTARY_K8S_KUBECONFIG`, else the client's default (`$KUBECONFIG`, `~/.kube/config`, in-cluster)
   */
  kubeconfig?: string | null;
  /**
   * Context of the kubeconfig to use.
   * @defaultValue `$TRIBUTARY_K8S_CONTEXT`, else the kubeconfig's current context
   */
  context?: string | null;
  /**
   * Namespace of pods that do not name one.
   * @defaultValue `$TRIBUTARY_K8S_NAMESPACE`, else the context's namespace, else `'default'`
   */
  namespace?: string | null;
  /**
   * Image of the `kubernetes` executor's pods: one with Tributary, the project's DAG files and plugins.
   * @defaultValue `$TRIBUTARY_K8S_IMAGE`
   */
  image?: string | null;
  /**
   * How the executor's pods start the CLI; `tasks run <dag> <run> <task> --try <n>` is appended.
   * @defaultValue `['tributary']`
   */
  command?: readonly string[];
  /**
   * Longest a pod may stay pending before its try fails.
   * @defaultValue `'120s'`
   */
  startupTimeout?: Duration;
  /**
   * Default settings of the executor's pods (service account, env from Secrets/ConfigMaps, resources,
   * node selector, …); a task's `executorConfig` overrides them.
   * @defaultValue service account `$TRIBUTARY_K8S_SERVICE_ACCOUNT`, env from `$TRIBUTARY_K8S_ENV_FROM`
   * (comma-separated `secret/<name>` and `configmap/<name>`)
   */
  pod?: PodOptions;
}

/** {@link KubernetesConfig} after validation, with defaults applied. */
export interface ResolvedKubernetesConfig {
  readonly inCluster: boolean;
  readonly kubeconfig: string | null;
  readonly context: string | null;
  readonly namespace: string | null;
  readonly image: string | null;
  readonly command: readonly string[];
  readonly startupTimeoutMs: number;
  readonly pod: Readonly<PodOptions>;
}

/** Defaults of {@link KubernetesConfig}. */
export const DEFAULT_KUBERNETES_CONFIG = Object.freeze({
  command: Object.freeze(['tributary']),
  startupTimeoutMs: 120_000,
});

const schema = z
  .object({
    inCluster: z.boolean().optional(),
    kubeconfig: z.string().min(1).nullable().optional(),
    context: z.string().min(1).nullable().optional(),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a namespace name').nullable().optional(),
    image: z.string().min(1).nullable().optional(),
    command: z.array(z.string().min(1)).min(1).optional(),
    startupTimeout: z.union([z.number(), z.string()]).optional(),
    pod: podOptionsSchema.optional(),
  })
  .strict();

function parseEnvFrom(raw: string): PodEnvFrom[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(secret|configmap)\/([a-z0-9][-a-z0-9.]*)$/i.exec(entry);
      if (!match) throw new ConfigError(`expected comma-separated 'secret/<name>' or 'configmap/<name>', got '${entry}'`, 'TRIBUTARY_K8S_ENV_FROM');
      return match[1]!.toLowerCase() === 'secret' ? { secret: match[2]! } : { configMap: match[2]! };
    });
}

/**
 * Validate Kubernetes options and apply defaults, reading `TRIBUTARY_K8S_IN_CLUSTER`,
 * `TRIBUTARY_K8S_KUBECONFIG`, `TRIBUTARY_K8S_CONTEXT`, `TRIBUTARY_K8S_NAMESPACE`, `TRIBUTARY_K8S_IMAGE`,
 * `TRIBUTARY_K8S_SERVICE_ACCOUNT` and `TRIBUTARY_K8S_ENV_FROM` for options not given. Throws
 * {@link ConfigError} naming the field.
 */
export function resolveKubernetesConfig(config: KubernetesConfig = {}, env: NodeJS.ProcessEnv = process.env): ResolvedKubernetesConfig {
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const problem = firstProblem(parsed.error);
    throw new ConfigError(problem.message, `kubernetes${problem.path ? `.${problem.path}` : ''}`);
  }
  const inClusterEnv = env.TRIBUTARY_K8S_IN_CLUSTER;
  if (inClusterEnv !== undefined && inClusterEnv !== '' && !['true', 'false'].includes(inClusterEnv)) {
    throw new ConfigError(`expected true or false, got '${inClusterEnv}'`, 'TRIBUTARY_K8S_IN_CLUSTER');
  }
  const startup = config.startupTimeout === undefined ? DEFAULT_KUBERNETES_CONFIG.startupTimeoutMs : durationToMs(config.startupTimeout);
  if (typeof startup === 'string') throw new ConfigError(startup, 'kubernetes.startupTimeout');
  const pod: PodOptions = { ...config.pod };
  if (pod.serviceAccountName === undefined && env.TRIBUTARY_K8S_SERVICE_ACCOUNT) pod.serviceAccountName = env.TRIBUTARY_K8S_SERVICE_ACCOUNT;
  if (pod.envFrom === undefined && env.TRIBUTARY_K8S_ENV_FROM) pod.envFrom = parseEnvFrom(env.TRIBUTARY_K8S_ENV_FROM);
  const namespace = config.namespace ?? (env.TRIBUTARY_K8S_NAMESPACE || null);
  if (namespace !== null && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new ConfigError(`expected a namespace name, got '${namespace}'`, 'TRIBUTARY_K8S_NAMESPACE');
  }
  return Object.freeze({
    inCluster: config.inCluster ?? inClusterEnv === 'true',
    kubeconfig: config.kubeconfig ?? (env.TRIBUTARY_K8S_KUBECONFIG || null),
    context: config.context ?? (env.TRIBUTARY_K8S_CONTEXT || null),
    namespace,
    image: config.image ?? (env.TRIBUTARY_K8S_IMAGE || null),
    command: Object.freeze([...(config.command ?? DEFAULT_KUBERNETES_CONFIG.command)]),
    startupTimeoutMs: startup,
    pod: Object.freeze(pod),
  });
}

/**
 * Load the client configuration into `kc` (a new `KubeConfig`): in-cluster, a kubeconfig file, or the
 * client's default lookup; then the chosen context. Throws {@link ConfigError} saying what was tried.
 */
export function loadKubeConfig(config: ResolvedKubernetesConfig, kc: KubeConfig): KubeConfig {
  try {
    if (config.inCluster) kc.loadFromCluster();
    else if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    const source = config.inCluster ? 'the in-cluster service account' : config.kubeconfig ? `kubeconfig ${config.kubeconfig}` : 'the default kubeconfig';
    throw new ConfigError(`cannot load the Kubernetes configuration from ${source}: ${(error as Error).message}`, 'kubernetes', { cause: error });
  }
  if (config.context) {
    if (!kc.getContextObject(config.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ConfigError(`context '${config.context}' is not in the kubeconfig (it has: ${known.join(', ') || 'none'})`, 'kubernetes.context');
    }
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError('the Kubernetes configuration names no cluster (set kubernetes.kubeconfig, kubernetes.context or kubernetes.inCluster)', 'kubernetes');
  }
  return kc;
}

/** The namespace for pods that name none: configured, else the kubeconfig context's, else `default`. */
export function defaultNamespace(config: ResolvedKubernetesConfig, kc: KubeConfig): string {
  return config.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}
