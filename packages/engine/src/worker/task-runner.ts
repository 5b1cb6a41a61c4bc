import { skippedByFlow } from '../dag/flow.js';
import type { TaskCallbackKind } from '../dag/callbacks.js';
import { SensorTimeoutError, type ResolvedSensorOptions } from '../dag/sensor-options.js';
import type { SerializedTask, TaskContext } from '../dag/types.js';
import { SkipTaskError, TaskTimeoutError, TributaryError, WorkerShutdownError, describeError, type ErrorInfo } from '../errors.js';
import { OUTCOME_RECORDED } from '../executor/executor.js';
import type { Executors } from '../executor/executors.js';
import type { EngineContext } from '../scheduler/context.js';
import type { RetryWaker } from '../scheduler/retry-waker.js';
import { afterTaskFinished } from '../scheduler/after-finish.js';
import { triggeringAssetEvents } from '../scheduler/asset-events.js';
import type { DagStructure } from '../scheduler/context.js';
import {
  recordFailure,
  recordSkipped,
  recordSuccess,
  upstreamResults,
  type ClaimedTaskInstance,
} from '../scheduler/task-transitions.js';
import { loadSensorProgress, recordReschedule } from '../scheduler/sensor-transitions.js';
import { SensorReschedule, pokeUntilDone } from './sensor-runner.js';
import { OutletEventCollector } from './outlet-events.js';
import { tryArguments, tryFacts } from './task-arguments.js';
import { TaskLogWriter, createTaskLogger } from './task-log.js';

/** Run `work`, failing with the signal's reason as soon as `signal` aborts, even if `work` ignores it. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {}); // a late rejection after an abort is expected, not unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Poke a sensor until done, resuming a rescheduled try where it stands. */
async function pokeSensor(
  deps: TaskRunnerDeps,
  claimed: ClaimedTaskInstance,
  sensor: ResolvedSensorOptions,
  retries: number,
  poke: () => Promise<unknown>,
  signal: AbortSignal,
  log: TaskLogWriter,
): Promise<unknown> {
  const progress = sensor.mode === 'reschedule' ? await loadSensorProgress(deps.ctx, claimed, retries) : { pokes: 0, elapsedMs: 0 };
  return pokeUntilDone({ sensor, where: { dagId: claimed.dagId, taskId: claimed.taskId }, progress, poke, signal, log });
}

/** End a sensor's poke as `up_for_reschedule`, wake it at its next poke time, and free its slot for others. */
async function rescheduleSensor(deps: TaskRunnerDeps, claimed: ClaimedTaskInstance, reschedule: SensorReschedule, log: TaskLogWriter): Promise<void> {
  const { ctx } = deps;
  const recorded = await recordReschedule(ctx, claimed, {
    pokeStartedMsAgo: Math.max(0, Date.now() - reschedule.pokeStartedAt),
    rescheduleAt: reschedule.at,
    logLines: await log.drain(),
  });
  if (!recorded) {
    ctx.log.warn({ dagId: claimed.dagId, taskId: claimed.taskId }, 'sensor poked but its instance changed state meanwhile; reschedule discarded');
    return;
  }
  deps.retries.schedule(claimed.id, reschedule.at);
  await afterTaskFinished(ctx, claimed, 'up_for_reschedule');
}

/** What {@link runClaimedTask} needs. */
export interface TaskRunnerDeps {
  ctx: EngineContext;
  /** Each task runs with the executor its `executor` option names. */
  executors: Executors;
  retries: RetryWaker;
  hostname: string;
}

/**
 * Run one claimed try to the end: build its context (params, upstream results, logger, signal),
 * execute it with its timeout, store the result or the error, and advance the run.
 * `abort` lets the worker stop it (kill, shutdown); the timeout aborts it too.
 */
export async function runClaimedTask(
  deps: TaskRunnerDeps,
  claimed: ClaimedTaskInstance,
  abort: AbortController,
  onExecuted: () => void = () => {},
): Promise<void> {
  const { ctx } = deps;
  // The executor is done with the try once its work settles: recording the outcome needs no slot.
  let executed = false;
  const markExecuted = (): void => {
    if (executed) return;
    executed = true;
    onExecuted();
  };
  const where = { dagId: claimed.dagId, taskId: claimed.taskId };
  const structure = await ctx.versions.get(claimed.dagVersionId);
  const task: SerializedTask | undefined = structure.tasks.get(claimed.taskId);
  const log = new TaskLogWriter(ctx.db, claimed.id, claimed.tryNumber);
  log.onError = (error) => ctx.log.warn({ err: error, ...where }, 'writing task log lines failed');
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  /** This process pokes the sensor (not a pod that records its own outcome). */
  let pokesHere = false;
  // What the try ran with, stored with its outcome (null: the task has no arguments, or they were not reached).
  let renderedJson: string | null = null;
  try {
    if (!task) {
      throw new TributaryError('TASK_MISSING', `DAG '${claimed.dagId}': task '${claimed.taskId}' is not in DAG version ${claimed.dagVersionId}`);
    }
    const executor = deps.executors.select(task, claimed.dagId);
    log.write(
      'info',
      `Starting try ${claimed.tryNumber} of ${claimed.maxTries}: ${claimed.dagId}.${claimed.taskId} (run ${claimed.runId}) on ${deps.hostname} with the ${executor.name} executor`,
    );
    // A task whose own process records its outcome (a pod) also enforces its own timeout.
    const external = executor.recordsOwnOutcome === true;
    if (task.executionTimeoutMs !== null && !external) {
      const ms = task.executionTimeoutMs;
      timer = setTimeout(() => abort.abort(new TaskTimeoutError(claimed.dagId, claimed.taskId, ms)), ms);
    }
    const upstream = claimed.upstream ?? (await upstreamResults(ctx, claimed.runPk, task.upstream, structure));
    // Only asset-triggered runs have triggering events: other runs pay nothing for them.
    const triggering = claimed.runType === 'asset_triggered' && !external ? await triggeringAssetEvents(ctx.db, claimed.runPk) : {};
    const prepared = await tryArguments(ctx, claimed, task, structure, upstream, triggering, !external);
    const args = prepared.args;
    // A try whose own process (a pod) records its outcome stores its rendered arguments itself.
    renderedJson = external ? null : prepared.renderedJson;
    const outlets = new OutletEventCollector(where, task.outlets ?? []);
    let logger: TaskContext['log'] | undefined;
    const context: TaskContext = {
      ...tryFacts(claimed),
      upstream,
      args,
      // A pino logger per try costs more than a no-op task: made when the task first logs.
      get log() {
        return (logger ??= createTaskLogger(log));
      },
      signal: abort.signal,
      outletEvents: outlets,
      triggeringAssetEvents: triggering,
    };
    const run = (): Promise<unknown> =>
      executor.execute({ task: task.kind === 'operator' ? { ...task, args } : task, dagId: claimed.dagId, taskInstanceId: claimed.id, file: structure.serialized.file, context, log });
    // A sensor pokes until done; a pod running one (its own outcome) pokes in the pod.
    const sensor = external ? null : task.sensor;
    pokesHere = sensor !== null;
    const execution = Promise.resolve().then(() => (sensor ? pokeSensor(deps, claimed, sensor, task.retries, run, abort.signal, log) : run()));
    const value = external ? await execution : await raceAbort(execution, abort.signal);
    clearTimeout(timer);
    markExecuted();
    if (value === OUTCOME_RECORDED) {
      await log.close();
      return;
    }
    if (value instanceof SensorReschedule) {
      await rescheduleSensor(deps, claimed, value, log);
      return;
    }
    let result: unknown = value;
    let decision: string | null = null;
    if (task.flow) {
      const outcome = skippedByFlow(structure.tasks, where, task.flow, value);
      result = outcome.result;
      if (outcome.skip.length > 0) decision = JSON.stringify({ skip: outcome.skip });
      log.write('info', outcome.skip.length > 0 ? `Skipping downstream tasks: ${outcome.skip.join(', ')}` : 'Following every downstream task');
    }
    const events = task.outlets ? outlets.events(ctx.xcomMaxBytes) : [];
    // A result over the offload threshold is written to the object store here, before the success.
    const stored = await ctx.xcom.store(result, { ...where, runId: claimed.runId, mapIndex: claimed.mapIndex, tryNumber: claimed.tryNumber });
    if (events.length > 0) log.write('info', `Recording asset events: ${events.map((e) => e.uri).join(', ')}`);
    const resultNote = stored === null ? '' : stored.offloaded ? ` (result ${stored.sizeBytes} bytes, stored in the object store)` : ` (result ${stored.sizeBytes} bytes)`;
    log.write('info', `Task succeeded in ${Math.round(performance.now() - started)} ms${resultNote}`);
    const assetEvents = events.length > 0 ? { events, source: { dagId: claimed.dagId, runId: claimed.runId, taskId: claimed.taskId, mapIndex: claimed.mapIndex } } : undefined;
    const extras = { renderedArgsJson: renderedJson, assetEvents, ...(stored?.offloaded ? { offloadedSizeBytes: stored.sizeBytes } : {}) };
    if (await recordSuccess(ctx, claimed, stored?.json ?? null, await log.drain(), decision, extras)) {
      await afterTaskFinished(ctx, claimed, 'success');
      await runCallbacks(deps, claimed, task, structure, 'success', 'success', null);
    } else {
      ctx.log.warn(where, 'task finished but its instance changed state meanwhile (cleared, marked or failed as a zombie); result discarded');
    }
  } catch (caught) {
    clearTimeout(timer);
    markExecuted();
    if (caught instanceof WorkerShutdownError && pokesHere && task?.sensor?.mode === 'reschedule') {
      // Between pokes a rescheduled sensor holds nothing: hand it to another worker at once.
      log.write('warn', 'The worker is shutting down: rescheduling the sensor to poke again now');
      await rescheduleSensor(deps, claimed, new SensorReschedule(new Date(), 0, Date.now()), log);
      return;
    }
    if (caught instanceof SkipTaskError) {
      log.write('info', `Task skipped itself: ${caught.message}`);
      await log.close();
      if (await recordSkipped(ctx, claimed, caught.message, renderedJson)) {
        await afterTaskFinished(ctx, claimed, 'skipped');
        if (task) await runCallbacks(deps, claimed, task, structure, 'skipped', 'skipped', describeError(caught));
      }
      return;
    }
    const error = describeError(caught);
    log.write('error', `Task failed after ${Math.round(performance.now() - started)} ms: ${error.stack ?? `${error.name}: ${error.message}`}`);
    // A sensor that timed out fails for good, as Airflow's AirflowSensorTimeout does.
    const retry = !(caught instanceof SensorTimeoutError);
    const outcome = task
      ? await recordFailure(ctx, claimed, task, error, retry, renderedJson)
      : await recordFailure(ctx, claimed, { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 }, error, false);
    if (outcome?.state === 'up_for_retry') {
      log.write('warn', `Marked up_for_retry; try ${claimed.tryNumber + 1} starts at ${outcome.retryAt!.toISOString()}`);
    } else if (outcome) {
      log.write('error', retry ? 'Marked failed: no tries left' : 'Marked failed: the sensor timed out (not retried)');
    }
    await log.close();
    if (!outcome) {
      ctx.log.warn(where, 'task failed but its instance changed state meanwhile; outcome discarded');
      return;
    }
    if (outcome.retryAt) deps.retries.schedule(claimed.id, outcome.retryAt);
    await afterTaskFinished(ctx, claimed, outcome.state);
    if (task) await runCallbacks(deps, claimed, task, structure, outcome.state === 'failed' ? 'failure' : 'retry', outcome.state, error);
  }
}

/**
 * Run the task's callbacks of `kind` once its outcome is stored and its downstream tasks are on their
 * way (after the try's slot is free; each callback ends within the callback timeout).
 */
async function runCallbacks(
  deps: TaskRunnerDeps,
  claimed: ClaimedTaskInstance,
  task: SerializedTask,
  structure: DagStructure,
  kind: TaskCallbackKind,
  state: 'success' | 'failed' | 'up_for_retry' | 'skipped',
  error: ErrorInfo | null,
): Promise<void> {
  const callbacks = deps.ctx.callbacks;
  if (!callbacks || !task.callbacks?.includes(kind)) return;
  await callbacks.runTaskCallbacks({ ...tryFacts(claimed), kind, file: structure.serialized.file, tiId: claimed.id, state, error });
}
