import type { V1Pod } from '@kubernetes/client-node';
import { sql } from 'kysely';
import { durationToMs } from '../dag/duration.js';
import { PodFailedError, TributaryError, WorkerShutdownError, toError } from '../errors.js';
import type { EngineContext } from '../scheduler/context.js';
import { OUTCOME_RECORDED, type Executor, type TaskExecution } from './executor.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import type { PodOnFinish, PodOptions } from './kubernetes-options.js';
import type { PodClient } from './pod-client.js';
import { createOrAdopt, finishWithPod, podFailure, podRef, withLastLines } from './pod-lifecycle.js';
import { readLastLines } from './pod-logs.js';
import { belongsTo, buildPod, instanceSelector, mergePodOptions, podName, podTryNumber, type PodIdentity } from './pod-spec.js';
import { classifyPod } from './pod-status.js';
import { supervisePod } from './pod-supervisor.js';

/** Name of the container that runs the task in an executor pod. */
export const EXECUTOR_CONTAINER = 'task';

/** The CLI arguments an executor pod runs (after the configured command, `tributary` by default). */
export function taskRunArguments(identity: PodIdentity): string[] {
  return ['tasks', 'run', identity.dagId, identity.runId, identity.taskId, '--try', String(identity.tryNumber), '--map-index', String(identity.mapIndex)];
}

/**
 * Runs each task (inline function or operator) in its own pod from the configured image, running
 * `tributary tasks run <dag> <run> <task> --try <n>`: the pod claims the try, heart-beats, writes the
 * task log and records the outcome in PostgreSQL like a local worker. This executor creates the pod,
 * fails the try with the reason when the pod cannot start or ends without reporting, and deletes the
 * pod when the try is cleared, marked or cancelled. When the worker shuts down or dies, the pod
 * carries on alone.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  readonly recordsOwnOutcome = true;
  readonly #ctx: EngineContext;
  readonly #access: KubernetesAccess;

  constructor(ctx: EngineContext, access: KubernetesAccess) {
    this.#ctx = ctx;
    this.#access = access;
  }

  async execute({ task, dagId, taskInstanceId, context, log }: TaskExecution): Promise<unknown> {
    const config = this.#access.config;
    const options: PodOptions = mergePodOptions(config.pod, task.executorConfig as PodOptions | null);
    const image = options.image ?? config.image;
    if (!image) {
      throw new TributaryError(
        'EXECUTOR_UNAVAILABLE',
        `DAG '${dagId}': task '${task.taskId}': the kubernetes executor has no image to run: set kubernetes.image (or TRIBUTARY_K8S_IMAGE), or executorConfig.image on the task`,
        { location: { dagId, taskId: task.taskId, field: 'executorConfig.image' } },
      );
    }
    const { client, namespace: defaultNamespace } = await this.#access.connect();
    const namespace = options.namespace ?? defaultNamespace;
    const onFinish = options.onFinish ?? 'deleteOnSuccess';
    const startupTimeoutMs = options.startupTimeout === undefined ? config.startupTimeoutMs : (durationToMs(options.startupTimeout) as number);
    const identity: PodIdentity = { dagId, runId: context.runId, taskId: task.taskId, mapIndex: context.mapIndex, tryNumber: context.tryNumber };
    const report = (message: string): void => log.write('info', message);

    await this.#removeStalePods(client, namespace, identity, report);
    const spec = buildPod({
      identity,
      kind: 'executor',
      name: podName(identity),
      namespace,
      image,
      containerName: EXECUTOR_CONTAINER,
      command: [...config.command, ...taskRunArguments(identity)],
      options,
    });
    const { pod, created } = await createOrAdopt(client, spec);
    await sql`UPDATE tributary.task_instance SET executor = 'kubernetes', external_id = ${podRef(pod)}, updated_at = now()
               WHERE id = ${taskInstanceId} AND state = 'running' AND try_number = ${identity.tryNumber}`.execute(this.#ctx.db);
    report(`${created ? 'Created' : 'Following the existing'} pod ${podRef(pod)} (image ${image}); the task runs there and records its own outcome`);

    // Our own signal for the supervision, so an abort is handled here rather than thrown at us.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(context.signal.reason);
    if (context.signal.aborted) onAbort();
    context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const outcome = await supervisePod(pod, {
        client,
        container: EXECUTOR_CONTAINER,
        startupTimeoutMs,
        signal: stop.signal,
        onPending: (detail) => report(`Pod ${podRef(pod)} is pending: ${detail}`),
        onRunning: () => report(`Pod ${podRef(pod)} is running`),
        onProblem: (what, error) => log.write('warn', `Problem ${what} of pod ${podRef(pod)} (retrying): ${(error as Error).message}`),
      });
      const reported = !(await this.#stillRunning(taskInstanceId, identity.tryNumber));
      await finishWithPod(client, outcome.pod, onFinish, reported && outcome.state.kind === 'succeeded', report);
      if (reported) return OUTCOME_RECORDED;
      const target = { namespace, name: pod.metadata!.name!, container: EXECUTOR_CONTAINER };
      const lastLines = await readLastLines(client, target, 20);
      if (outcome.state.kind === 'failed') throw podFailure(outcome, EXECUTOR_CONTAINER, lastLines);
      throw new PodFailedError(podRef(pod), 'NoOutcome', withLastLines("the container exited with code 0 without recording the task's outcome", lastLines), { exitCode: 0, lastLines });
    } catch (error) {
      if (stop.signal.aborted) {
        return this.#afterAbort(client, pod, onFinish, taskInstanceId, identity.tryNumber, toError(stop.signal.reason), report);
      }
      if (error instanceof PodFailedError && error.code !== 'POD_FAILED') {
        await finishWithPod(client, pod, onFinish === 'keep' ? 'keep' : 'delete', false, report);
      }
      throw error;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Pods of earlier tries of this instance: their tries were failed, so they must not run on. */
  async #removeStalePods(client: PodClient, namespace: string, identity: PodIdentity, report: (message: string) => void): Promise<void> {
    const pods = await client.list(namespace, instanceSelector(identity, 'executor'));
    for (const pod of pods) {
      if (!belongsTo(pod, identity) || podTryNumber(pod) >= identity.tryNumber || pod.metadata?.deletionTimestamp) continue;
      const state = classifyPod(pod, EXECUTOR_CONTAINER).kind;
      if (state === 'pending' || state === 'running' || state === 'cannotStart') {
        report(`Deleting pod ${podRef(pod)} of try ${podTryNumber(pod)}, which is no longer current`);
        await client.delete(namespace, pod.metadata!.name!);
      }
    }
  }

  async #stillRunning(tiId: number, tryNumber: number): Promise<boolean> {
    const row = await sql<{ id: number }>`SELECT id FROM tributary.task_instance WHERE id = ${tiId} AND state = 'running' AND try_number = ${tryNumber}`.execute(this.#ctx.db);
    return row.rows.length > 0;
  }

  /**
   * The worker stopped following the try. On shutdown the pod carries on and reports itself; when the
   * try was changed by an operator action (clear, mark, cancel) the pod is deleted; when the pod itself
   * recorded the outcome there is nothing to do.
   */
  async #afterAbort(
    client: PodClient,
    pod: V1Pod,
    onFinish: PodOnFinish,
    tiId: number,
    tryNumber: number,
    reason: Error,
    report: (message: string) => void,
  ): Promise<typeof OUTCOME_RECORDED> {
    if (reason instanceof WorkerShutdownError) {
      report(`Worker shutting down: pod ${podRef(pod)} keeps running and records the task's outcome itself`);
      return OUTCOME_RECORDED;
    }
    const row = await sql<{ state: string | null; try_number: number; error_name: string | null }>`
      SELECT t.state, t.try_number, tt.error->>'name' AS error_name
        FROM tributary.task_instance t
        LEFT JOIN tributary.task_try tt ON tt.ti_id = t.id AND tt.try_number = ${tryNumber}
       WHERE t.id = ${tiId}`.execute(this.#ctx.db);
    const current = row.rows[0];
    const byOperator = !current || current.try_number !== tryNumber || current.error_name === 'ExternalStateChange' || current.state === null;
    if (byOperator || current.state === 'running') {
      report(`Task stopped (${reason.message}): deleting pod ${podRef(pod)}`);
      await client.delete(pod.metadata!.namespace!, pod.metadata!.name!).catch((error: unknown) => report(`Could not delete pod ${podRef(pod)}: ${(error as Error).message}`));
    } else {
      // The pod recorded the outcome and is on its way out.
      await finishWithPod(client, pod, onFinish, current.state === 'success' || current.state === 'skipped', () => {});
    }
    return OUTCOME_RECORDED;
  }
}
