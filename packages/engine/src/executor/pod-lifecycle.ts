import type { V1Pod } from '@kubernetes/client-node';
import { KubernetesApiError, PodFailedError, TributaryError } from '../errors.js';
import type { PodOnFinish } from './kubernetes-options.js';
import type { PodClient } from './pod-client.js';
import { POD_LABELS } from './pod-spec.js';
import type { PodOutcome } from './pod-supervisor.js';

/** `namespace/name` of a pod. */
export function podRef(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

/** Create a pod; when one of the same name exists (the same try asked twice), use that one instead. */
export async function createOrAdopt(client: PodClient, pod: V1Pod): Promise<{ pod: V1Pod; created: boolean }> {
  try {
    return { pod: await client.create(pod), created: true };
  } catch (error) {
    if (error instanceof KubernetesApiError && error.status === 409) {
      const existing = await client.read(pod.metadata!.namespace!, pod.metadata!.name!);
      if (existing) return { pod: existing, created: false };
    }
    throw error;
  }
}

/**
 * Apply the on-finish action to a pod a try is done with: delete it, or keep it labelled as checked
 * (so that no later try reattaches to it). Problems are reported, not thrown: the task's outcome
 * does not depend on them.
 */
export async function finishWithPod(
  client: PodClient,
  pod: V1Pod,
  onFinish: PodOnFinish,
  succeeded: boolean,
  report: (message: string) => void,
): Promise<void> {
  const remove = onFinish === 'delete' || (onFinish === 'deleteOnSuccess' && succeeded);
  try {
    if (remove) await client.delete(pod.metadata!.namespace!, pod.metadata!.name!);
    else if (pod.metadata?.labels?.[POD_LABELS.checked] !== 'true') {
      await client.markChecked(pod.metadata!.namespace!, pod.metadata!.name!);
      report(`Kept pod ${podRef(pod)} (onFinish: ${onFinish})`);
    }
  } catch (error) {
    report(`Could not ${remove ? 'delete' : 'label'} pod ${podRef(pod)}: ${(error as Error).message}`);
  }
}

/** Quote the last log lines under a message. */
export function withLastLines(message: string, lines: readonly string[]): string {
  return lines.length === 0 ? message : `${message}\nLast ${lines.length} log line(s):\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/** The error of a pod whose container failed: reason, exit code, messages and last log lines. */
export function podFailure(outcome: PodOutcome, container: string, lastLines: readonly string[] = outcome.lastLines): PodFailedError {
  if (outcome.state.kind !== 'failed') throw new TypeError('podFailure: the pod did not fail');
  const { reason, exitCode, message, terminationMessage } = outcome.state;
  let text = `container '${container}' failed: ${reason}${exitCode === null ? '' : ` (exit code ${exitCode})`}`;
  if (message) text += `: ${message}`;
  if (terminationMessage) text += `\nTermination message: ${terminationMessage.slice(0, 2_000)}`;
  return new PodFailedError(podRef(outcome.pod), reason, withLastLines(text, lastLines), { exitCode, lastLines });
}

/** The task's result from a termination message: JSON, or undefined when the container wrote none. */
export function parseTerminationMessage(message: string | null, pod: V1Pod): unknown {
  if (message === null || message.trim() === '') return undefined;
  try {
    return JSON.parse(message) as unknown;
  } catch (error) {
    throw new TributaryError(
      'POD_RESULT_INVALID',
      `pod ${podRef(pod)}: the termination message is not JSON (${(error as Error).message}): ${message.slice(0, 200)} — ` +
        "write the result as JSON to /dev/termination-log, or set result: 'none'",
    );
  }
}
