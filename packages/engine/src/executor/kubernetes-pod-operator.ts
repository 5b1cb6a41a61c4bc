import type { V1Pod } from '@kubernetes/client-node';
import { durationToMs } from '../dag/duration.js';
import type { TaskContext } from '../dag/types.js';
import { PodFailedError, TributaryError, WorkerShutdownError, toError } from '../errors.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import { parseKubernetesPodArgs, type KubernetesPodArgs } from './kubernetes-options.js';
import type { PodClient } from './pod-client.js';
import { createOrAdopt, finishWithPod, parseTerminationMessage, podFailure, podRef } from './pod-lifecycle.js';
import { belongsTo, buildPod, instanceSelector, podName, podTryNumber, POD_LABELS, type PodIdentity } from './pod-spec.js';
import { classifyPod } from './pod-status.js';
import { supervisePod } from './pod-supervisor.js';

/** What the operator needs to know about earlier tries of a task instance. */
export interface TryHistory {
  /** True when try `tryNumber` was stopped on purpose (cleared, marked, cancelled, timed out), not lost with its worker. */
  stoppedOnPurpose(identity: PodIdentity, tryNumber: number): Promise<boolean>;
}

/** Parse and check the operator's arguments; the error names the task and the field. */
function argumentsOf(raw: unknown, context: TaskContext): KubernetesPodArgs {
  const parsed = parseKubernetesPodArgs(raw);
  if ('problem' in parsed) {
    const { path, message } = parsed.problem;
    throw new TributaryError('OPERATOR_ARGS_INVALID', `DAG '${context.dagId}': task '${context.taskId}': kubernetesPod: ${path ? `option '${path}': ` : ''}${message}`, {
      location: { dagId: context.dagId, taskId: context.taskId, field: path || undefined },
    });
  }
  return parsed.args;
}

/**
 * Before starting a pod, look for pods an earlier try of this task instance started (by labels, then
 * confirmed by annotations). A pending, running or succeeded one that no try has taken the outcome of,
 * from a try whose worker died or shut down, is followed instead of starting another; the rest
 * (failed, from a try that was cleared or timed out, or all when reattaching is off) are finished
 * with, so at most one pod per task instance ever runs.
 */
async function findReattachable(
  client: PodClient,
  namespace: string,
  identity: PodIdentity,
  args: KubernetesPodArgs,
  container: string,
  history: TryHistory,
  report: (message: string) => void,
): Promise<V1Pod | null> {
  const pods = (await client.list(namespace, instanceSelector(identity, 'operator')))
    .filter((p) => belongsTo(p, identity) && !p.metadata?.deletionTimestamp && p.metadata?.labels?.[POD_LABELS.checked] !== 'true')
    .sort((a, b) => podTryNumber(b) - podTryNumber(a));
  let chosen: V1Pod | null = null;
  for (const pod of pods) {
    const state = classifyPod(pod, container).kind;
    const live = state === 'pending' || state === 'running';
    const abandoned = podTryNumber(pod) > identity.tryNumber || (await history.stoppedOnPurpose(identity, podTryNumber(pod)));
    if (args.reattachOnRestart !== false && !chosen && !abandoned && (live || state === 'succeeded')) {
      chosen = pod;
      continue;
    }
    if (live) {
      const why = args.reattachOnRestart === false ? 'reattachOnRestart is off' : 'that try was stopped';
      report(`Deleting pod ${podRef(pod)} left running by try ${podTryNumber(pod)} (${why})`);
      await client.delete(namespace, pod.metadata!.name!);
    } else {
      report(`Pod ${podRef(pod)} of try ${podTryNumber(pod)} ended (${state}) while no worker followed it; not reused`);
      await finishWithPod(client, pod, args.onFinish ?? 'delete', state === 'succeeded', report);
    }
  }
  return chosen;
}

/**
 * The `kubernetesPod` operator: run a container in its own pod and take its result from the
 * container's termination message. See {@link KubernetesPodArgs} and docs/executors.md.
 */
export async function runKubernetesPod(access: KubernetesAccess, raw: unknown, context: TaskContext, history: TryHistory): Promise<unknown> {
  const args = argumentsOf(raw, context);
  const { client, namespace: defaultNamespace } = await access.connect();
  const namespace = args.namespace ?? defaultNamespace;
  const container = args.containerName ?? 'base';
  const onFinish = args.onFinish ?? 'delete';
  const startup = args.startupTimeout === undefined ? access.config.startupTimeoutMs : (durationToMs(args.startupTimeout) as number);
  const { log, signal } = context;
  const report = (message: string): void => log.info(message);
  const identity: PodIdentity = {
    dagId: context.dagId,
    runId: context.runId,
    taskId: context.taskId,
    mapIndex: context.mapIndex,
    tryNumber: context.tryNumber,
  };

  let pod = await findReattachable(client, namespace, identity, args, container, history, report);
  if (pod) {
    report(`Reattached to pod ${podRef(pod)} started by try ${podTryNumber(pod)} (${pod.status?.phase ?? 'Pending'}); following it instead of starting another`);
  } else {
    const spec = buildPod({
      identity,
      kind: 'operator',
      name: podName(identity, args.name),
      namespace,
      image: args.image,
      containerName: container,
      command: args.command,
      args: args.args,
      workingDir: args.workingDir,
      options: args,
    });
    const created = await createOrAdopt(client, spec);
    pod = created.pod;
    report(`${created.created ? 'Created' : 'Found existing'} pod ${podRef(pod)} (image ${args.image})`);
  }
  const current = pod;

  // The worker aborts the task on timeout, clear, mark, cancel and shutdown. The pod is deleted,
  // except when the worker is only shutting down and a later try will reattach to it.
  const onAbort = (): void => {
    const reason = toError(signal.reason);
    if (reason instanceof WorkerShutdownError && args.reattachOnRestart !== false && context.tryNumber < context.maxTries) {
      log.warn(`Worker shutting down: pod ${podRef(current)} keeps running; the next try reattaches to it`);
      return;
    }
    log.warn(`Task stopped (${reason.message}): deleting pod ${podRef(current)}`);
    client.delete(namespace, current.metadata!.name!).catch((error: unknown) => {
      log.error(`Could not delete pod ${podRef(current)}: ${(error as Error).message}`);
    });
  };
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const outcome = await supervisePod(current, {
      client,
      container,
      startupTimeoutMs: startup,
      signal,
      errorLogLines: args.errorLogLines,
      onLogLine: (text) => log.info(text),
      onPending: (detail) => report(`Pod ${podRef(current)} is pending: ${detail}`),
      onRunning: () => report(`Pod ${podRef(current)} is running`),
      onProblem: (what, error) => log.warn(`Problem ${what} of pod ${podRef(current)} (retrying): ${(error as Error).message}`),
    });
    if (outcome.state.kind === 'failed') {
      await finishWithPod(client, outcome.pod, onFinish, false, report);
      throw podFailure(outcome, container);
    }
    let result: unknown;
    try {
      result = args.result === 'none' ? undefined : parseTerminationMessage(outcome.state.terminationMessage, outcome.pod);
    } finally {
      await finishWithPod(client, outcome.pod, onFinish, true, report);
    }
    report(`Pod ${podRef(outcome.pod)} succeeded`);
    return result;
  } catch (error) {
    // A pod that cannot start, stays pending or vanished is of no use: remove it (unless kept on purpose).
    if (!signal.aborted && error instanceof PodFailedError && error.code !== 'POD_FAILED') {
      await finishWithPod(client, current, onFinish === 'keep' ? 'keep' : 'delete', false, report);
    }
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
