import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { PodFailedError } from '../errors.js';
import type { PodClient } from './pod-client.js';
import { PodLogFollower } from './pod-logs.js';
import { classifyPod, type PodState } from './pod-status.js';

/**
 * Keeps the latest version of one pod: reads it, then watches it from that version; when a watch ends
 * (server timeout, expired version, error) it reads again and re-watches, so a watch that is not
 * allowed degrades to polling once a second.
 */
class PodTracker {
  readonly #client: PodClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #stop = new AbortController();
  #latest: V1Pod;
  #gone = false;
  #waiters: (() => void)[] = [];
  onProblem: (error: unknown) => void = () => {};

  constructor(client: PodClient, pod: V1Pod) {
    this.#client = client;
    this.#namespace = pod.metadata!.namespace!;
    this.#name = pod.metadata!.name!;
    this.#latest = pod;
  }

  get latest(): V1Pod {
    return this.#latest;
  }

  /** The pod no longer exists. */
  get gone(): boolean {
    return this.#gone;
  }

  start(): void {
    void this.#loop();
  }

  stop(): void {
    this.#stop.abort();
    this.#notify();
  }

  #update(pod: V1Pod): void {
    this.#latest = pod;
    this.#notify();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolve at the next change of the pod, after `timeoutMs`, or when `signal` aborts. */
  changed(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      const onAbort = (): void => done();
      signal.addEventListener('abort', onAbort, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted && !this.#gone) {
      try {
        const pod = await this.#client.read(this.#namespace, this.#name);
        if (!pod) {
          this.#gone = true;
          this.#notify();
          return;
        }
        this.#update(pod);
        await this.#client.watch(
          this.#namespace,
          this.#name,
          pod.metadata?.resourceVersion,
          (type, object) => {
            if (type === 'DELETED') {
              this.#gone = true;
              this.#notify();
              return 'stop';
            }
            if (type === 'ERROR') return 'stop'; // e.g. 410 Gone: read again and watch from the new version
            if (type === 'ADDED' || type === 'MODIFIED') this.#update(object);
          },
          signal,
        );
        failures = 0;
      } catch (error) {
        if (failures++ === 0) this.onProblem(error);
        await sleep(1_000, undefined, { signal }).catch(() => {});
      }
    }
  }
}

/** What {@link supervisePod} follows and how it reports progress. */
export interface SupervisePodOptions {
  client: PodClient;
  container: string;
  /** Longest the pod may stay pending. */
  startupTimeoutMs: number;
  signal: AbortSignal;
  /** Follow the container's log into this function, line by line. */
  onLogLine?: (text: string) => void;
  /** Lines kept for the error of a failed pod. @defaultValue 20 */
  errorLogLines?: number;
  /** Called when the pod is waiting for something new (scheduling, image pull, …). */
  onPending?: (detail: string) => void;
  onRunning?: () => void;
  /** Problems reading status or log that do not end the task. */
  onProblem?: (what: string, error: unknown) => void;
}

/** How a supervised pod ended. */
export interface PodOutcome {
  pod: V1Pod;
  state: Extract<PodState, { kind: 'succeeded' | 'failed' }>;
  /** The last lines of the container's log. */
  lastLines: readonly string[];
}

function describe(pod: V1Pod): string {
  return `${pod.metadata!.namespace}/${pod.metadata!.name}`;
}

/**
 * Follow a pod until its container has terminated, streaming its log when asked. Fails fast with a
 * {@link PodFailedError} when the container cannot start (image pull or configuration errors), when
 * the pod stays pending past the startup timeout (with the scheduler's reason, e.g. `Unschedulable`),
 * and when the pod disappears. Rejects with `signal.reason` when `signal` aborts.
 */
export async function supervisePod(initial: V1Pod, options: SupervisePodOptions): Promise<PodOutcome> {
  const { client, container, signal } = options;
  const tracker = new PodTracker(client, initial);
  tracker.onProblem = (error) => options.onProblem?.('watching the pod', error);
  const logs = options.onLogLine
    ? new PodLogFollower(client, { namespace: initial.metadata!.namespace!, name: initial.metadata!.name!, container }, options.onLogLine, options.errorLogLines ?? 20)
    : null;
  if (logs) logs.onProblem = (error) => options.onProblem?.('reading the log', error);
  const deadline = Date.now() + options.startupTimeoutMs;
  let started = false;
  let lastDetail = '';
  let terminated = false;
  tracker.start();
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (tracker.gone) {
        throw new PodFailedError(describe(tracker.latest), 'Deleted', 'the pod was deleted before its container finished (by someone else, or evicted)', {
          lastLines: logs?.lastLines,
          code: 'POD_DELETED',
        });
      }
      const state = classifyPod(tracker.latest, container);
      if (state.kind === 'cannotStart') {
        throw new PodFailedError(describe(tracker.latest), state.reason, `container '${container}' cannot start: ${state.reason}: ${state.message}`, {
          code: 'POD_CANNOT_START',
        });
      }
      if (state.kind === 'pending') {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          const reason = state.detail.startsWith('Unschedulable') ? 'Unschedulable' : 'StartupTimeout';
          throw new PodFailedError(
            describe(tracker.latest),
            reason,
            `still pending after the startup timeout of ${Math.round(options.startupTimeoutMs / 1000)} s: ${state.detail}`,
            { code: 'POD_STARTUP_TIMEOUT' },
          );
        }
        if (state.detail !== lastDetail) {
          lastDetail = state.detail;
          options.onPending?.(state.detail);
        }
        await tracker.changed(remaining, signal);
        continue;
      }
      terminated = state.kind !== 'running';
      if (!started) {
        started = true;
        if (state.kind === 'running') options.onRunning?.();
        logs?.start(() => terminated);
      }
      if (state.kind === 'running') {
        await tracker.changed(60_000, signal);
        continue;
      }
      if (logs) await logs.finish();
      return { pod: tracker.latest, state, lastLines: logs?.lastLines ?? [] };
    }
  } finally {
    tracker.stop();
    logs?.stop();
  }
}
