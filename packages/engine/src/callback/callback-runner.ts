import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type {
  DagCallbackKind,
  DagRunCallback,
  DagRunCallbackContext,
  DeadlineReference,
  TaskCallback,
  TaskCallbackContext,
  TaskCallbackKind,
} from '../dag/callbacks.js';
import type { DataInterval, RunType, TaskLogger } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { describeError, type ErrorInfo } from '../errors.js';
import type { DagBag } from '../processor/dag-bag.js';
import { TaskLogWriter, createTaskLogger } from '../worker/task-log.js';

/** The run a callback is about. */
export interface CallbackRun {
  /** The DAG file (as stored with the run's version), imported to find the callback functions. */
  file: string | null;
  dagId: string;
  runId: string;
  runType: RunType;
  logicalDate: Date;
  dataInterval: DataInterval;
  params: Record<string, unknown>;
}

/** The {@link CallbackRun} of a stored run, as a `dag_run` row has it. */
export function callbackRunOf(
  file: string | null,
  row: { dag_id: string; run_id: string; run_type: RunType; logical_date: Date; data_interval_start: Date; data_interval_end: Date; conf: Record<string, unknown> },
): CallbackRun {
  return {
    file,
    dagId: row.dag_id,
    runId: row.run_id,
    runType: row.run_type,
    logicalDate: row.logical_date,
    dataInterval: { start: row.data_interval_start, end: row.data_interval_end },
    params: row.conf,
  };
}

/** A task instance's try that ended, for its callbacks. */
export interface TaskCallbackRequest extends CallbackRun {
  kind: TaskCallbackKind;
  tiId: number;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  maxTries: number;
  state: TaskCallbackContext['state'];
  error: ErrorInfo | null;
}

/** A run that ended or missed its deadline, for the DAG's callbacks. */
export interface DagCallbackRequest extends CallbackRun {
  kind: DagCallbackKind | 'deadline';
  state: DagRunCallbackContext['state'];
  failedTasks?: readonly string[];
  deadline?: { at: Date; reference: DeadlineReference; afterMs: number };
}

const TIMED_OUT = Symbol('timedOut');

/**
 * Runs the callbacks of DAG files: task callbacks (on success, failure, retry, skip) with their lines
 * in the try's log, DAG callbacks (run success or failure, missed deadline) with theirs in the
 * engine's log. The functions are found by importing the DAG file (once per file version, through the
 * DAG bag). A callback that throws, rejects or runs past `timeoutMs` is logged and changes nothing;
 * a callback never throws to its caller. Callbacks started with {@link CallbackRunner.start} are
 * tracked so {@link CallbackRunner.drain} can wait for them.
 */
export class CallbackRunner {
  readonly #dags: DagBag;
  readonly #db: Kysely<Database>;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: { dags: DagBag; db: Kysely<Database>; log: Logger; timeoutMs: number }) {
    this.#dags = options.dags;
    this.#db = options.db;
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Callbacks started and not finished yet. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Run `work` (a callback invocation) without waiting for it, tracked for {@link CallbackRunner.drain}. */
  start(work: () => Promise<void>): void {
    const running: Promise<void> = work()
      .catch((error: unknown) => this.#log.error({ err: error }, 'running a callback failed'))
      .finally(() => this.#inFlight.delete(running));
    this.#inFlight.add(running);
  }

  /** Wait for the callbacks in flight (each ends within the timeout, or is abandoned then). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Run a task's callbacks of `request.kind`, in order, writing what they log (and what goes wrong)
   * to the try's log. Resolves when they are done or timed out.
   */
  async runTaskCallbacks(request: TaskCallbackRequest): Promise<void> {
    const where = { dagId: request.dagId, taskId: request.taskId, runId: request.runId, callback: request.kind };
    const writer = new TaskLogWriter(this.#db, request.tiId, request.tryNumber);
    writer.onError = (error) => this.#log.warn({ err: error, ...where }, 'writing callback log lines failed');
    const log = createTaskLogger(writer);
    try {
      const callbacks = await this.#taskCallbacks(request);
      if (callbacks.length === 0) {
        writer.write('warn', `No ${request.kind} callback found for task '${request.taskId}' in ${request.file ?? 'its DAG file'} (the file changed since this run's version)`);
        return;
      }
      for (const [index, callback] of callbacks.entries()) {
        const label = `${request.kind} callback${callbacks.length > 1 ? ` ${index + 1} of ${callbacks.length}` : ''}`;
        writer.write('info', `Running the ${label}`);
        const outcome = await this.#invoke((signal) => callback(this.#taskContext(request, log, signal)));
        if (outcome === 'ok') continue;
        writer.write('error', `The ${label} ${outcome === TIMED_OUT ? `did not finish within ${this.#timeoutMs} ms; abandoned` : `failed: ${outcome.stack ?? `${outcome.name}: ${outcome.message}`}`} (nothing was changed)`);
      }
    } catch (error) {
      // Importing the DAG file failed: the callbacks cannot be found.
      const info = describeError(error);
      writer.write('error', `Could not run the ${request.kind} callback: ${info.message}`);
    } finally {
      await writer.close();
    }
  }

  /** Run a DAG's callbacks of `request.kind` (or its deadline callback), logging to the engine's log. */
  async runDagCallbacks(request: DagCallbackRequest): Promise<void> {
    const log = this.#log.child({ dagId: request.dagId, runId: request.runId, callback: request.kind });
    let callbacks: readonly DagRunCallback[];
    try {
      callbacks = await this.#dagCallbacks(request);
    } catch (error) {
      log.error({ err: error }, `could not run the DAG's ${request.kind} callback: importing its file failed`);
      return;
    }
    if (callbacks.length === 0) {
      log.warn(`no ${request.kind} callback found in ${request.file ?? "the DAG's file"} (the file changed since this run's version)`);
      return;
    }
    for (const callback of callbacks) {
      const outcome = await this.#invoke((signal) => callback(this.#dagContext(request, log, signal)));
      if (outcome === TIMED_OUT) log.error({ timeoutMs: this.#timeoutMs }, `the DAG's ${request.kind} callback did not finish in time; abandoned (nothing was changed)`);
      else if (outcome !== 'ok') log.error({ err: outcome }, `the DAG's ${request.kind} callback failed (nothing was changed)`);
    }
  }

  async #taskCallbacks(request: TaskCallbackRequest): Promise<readonly TaskCallback[]> {
    if (!request.file) return [];
    const dag = await this.#dags.getDag(request.file, request.dagId);
    return dag.tasks.get(request.taskId)?.callbacks[request.kind] ?? [];
  }

  async #dagCallbacks(request: DagCallbackRequest): Promise<readonly DagRunCallback[]> {
    if (!request.file) return [];
    const dag = await this.#dags.getDag(request.file, request.dagId);
    if (request.kind === 'deadline') return dag.options.deadline ? [dag.options.deadline.callback] : [];
    return dag.options.callbacks[request.kind] ?? [];
  }

  /** Call `fn` with a signal aborted at the timeout; 'ok', the error it threw, or TIMED_OUT. */
  async #invoke(fn: (signal: AbortSignal) => unknown): Promise<'ok' | Error | typeof TIMED_OUT> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`callback timed out after ${this.#timeoutMs} ms`));
        resolve(TIMED_OUT);
      }, this.#timeoutMs);
    });
    try {
      const call = Promise.resolve().then(() => fn(abort.signal));
      call.catch(() => {}); // a rejection after the timeout is expected, not unhandled
      const outcome = await Promise.race([call.then(() => 'ok' as const), timeout]);
      return outcome;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  #runFacts(request: CallbackRun, log: TaskLogger, signal: AbortSignal) {
    return { dagId: request.dagId, runId: request.runId, runType: request.runType, logicalDate: request.logicalDate, dataInterval: request.dataInterval, params: request.params, log, signal };
  }

  #taskContext(request: TaskCallbackRequest, log: TaskLogger, signal: AbortSignal): TaskCallbackContext {
    return Object.freeze({
      ...this.#runFacts(request, log, signal),
      kind: request.kind,
      taskId: request.taskId,
      mapIndex: request.mapIndex,
      tryNumber: request.tryNumber,
      maxTries: request.maxTries,
      state: request.state,
      error: request.error,
    });
  }

  #dagContext(request: DagCallbackRequest, log: TaskLogger, signal: AbortSignal): DagRunCallbackContext {
    return Object.freeze({
      ...this.#runFacts(request, log, signal),
      kind: request.kind,
      state: request.state,
      failedTasks: request.failedTasks ?? [],
      deadline: request.deadline ?? null,
    });
  }
}
