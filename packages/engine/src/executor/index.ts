export { BUILTIN_PLUGIN, createBuiltinPlugin } from './builtin-plugin.js';
export { DEFAULT_SKIP_EXIT_CODES, validateCommandArgs, type CommandArgs } from './command-options.js';
export { runCommand } from './command-operator.js';
export { OUTCOME_RECORDED, type Executor, type TaskExecution } from './executor.js';
export { Executors } from './executors.js';
export { KubernetesAccess, type KubernetesConnection } from './kubernetes-access.js';
export {
  DEFAULT_KUBERNETES_CONFIG,
  loadKubeConfig,
  resolveKubernetesConfig,
  type KubernetesConfig,
  type ResolvedKubernetesConfig,
} from './kubernetes-config.js';
export { EXECUTOR_CONTAINER, KubernetesExecutor, taskRunArguments } from './kubernetes-executor.js';
export {
  parseKubernetesPodArgs,
  validateExecutorConfig,
  type KubernetesPodArgs,
  type PodEnvFrom,
  type PodEnvValue,
  type PodOnFinish,
  type PodOptions,
} from './kubernetes-options.js';
export { runKubernetesPod } from './kubernetes-pod-operator.js';
export { LocalExecutor } from './local-executor.js';
export type { PodClient } from './pod-client.js';
export { POD_LABELS, buildPod, instanceLabels, instanceSelector, podName, toLabelValue, type PodIdentity, type PodKind } from './pod-spec.js';
export { FATAL_WAITING_REASONS, classifyPod, type PodState } from './pod-status.js';
