import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/**
 * Waiting reasons after which a container will not start without a change to the pod (a wrong image
 * name, a missing Secret): the try fails at once with the reason instead of waiting for the startup
 * timeout (Airflow's KubernetesPodOperator waits, and hangs on them).
 */
export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Where a pod stands, as far as the task is concerned. */
export type PodState =
  | { kind: 'pending'; detail: string }
  | { kind: 'running' }
  | { kind: 'succeeded'; exitCode: number; terminationMessage: string | null }
  | { kind: 'failed'; reason: string; message: string; exitCode: number | null; terminationMessage: string | null }
  | { kind: 'cannotStart'; reason: string; message: string };

function containerStatus(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === container);
}

/** Why a pending pod has not started yet, for logs and the startup-timeout error. */
function pendingDetail(pod: V1Pod, status: V1ContainerStatus | undefined): string {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `${unscheduled.reason ?? 'Unschedulable'}: ${unscheduled.message ?? 'not scheduled yet'}`;
  const waiting = status?.state?.waiting;
  if (waiting) return waiting.message ? `${waiting.reason ?? 'Waiting'}: ${waiting.message}` : (waiting.reason ?? 'Waiting');
  const initWaiting = pod.status?.initContainerStatuses?.find((s) => s.state?.waiting)?.state?.waiting;
  if (initWaiting) return `init container ${initWaiting.reason ?? 'waiting'}${initWaiting.message ? `: ${initWaiting.message}` : ''}`;
  return pod.status?.phase === 'Pending' || !pod.status?.phase ? 'Pending' : pod.status.phase;
}

/**
 * Classify a pod for the task running in its container `container`: still pending (and why), running,
 * finished (exit code and termination message), or unable to ever start (image pull, config errors).
 */
export function classifyPod(pod: V1Pod, container: string): PodState {
  const status = containerStatus(pod, container);
  const terminated = status?.state?.terminated;
  const phase = pod.status?.phase;
  if (terminated || phase === 'Succeeded' || phase === 'Failed') {
    const exitCode = terminated?.exitCode ?? null;
    const terminationMessage = terminated?.message ? terminated.message : null;
    if (phase === 'Succeeded' || (terminated && exitCode === 0 && phase !== 'Failed')) {
      return { kind: 'succeeded', exitCode: exitCode ?? 0, terminationMessage };
    }
    if (!terminated && phase !== 'Failed') return { kind: 'running' };
    const reason = terminated?.reason ?? pod.status?.reason ?? 'Failed';
    const message = pod.status?.message ?? '';
    return { kind: 'failed', reason, message, exitCode, terminationMessage };
  }
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(status ? [status] : [])]) {
    const waiting = s.state?.waiting;
    if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
      return { kind: 'cannotStart', reason: waiting.reason, message: waiting.message ?? waiting.reason };
    }
    const initFailed = s !== status ? s.state?.terminated : undefined;
    if (initFailed && initFailed.exitCode !== 0) {
      return { kind: 'cannotStart', reason: 'InitContainerFailed', message: `init container '${s.name}' exited with code ${initFailed.exitCode}` };
    }
  }
  if (status?.state?.running || phase === 'Running') return { kind: 'running' };
  return { kind: 'pending', detail: pendingDetail(pod, status) };
}
