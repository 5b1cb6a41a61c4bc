/**
 * Body of a `thread` executor thread: runs one task function at a time from its DAG file (imported
 * once per file version, like the worker's own DAG bag), with a context whose log, console output
 * and outlet events go back to the worker. Runs with tsx registered by its bootstrap.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TaskContext } from '../dag/types.js';
import { SkipTaskError, TributaryError } from '../errors.js';
import { DagBag } from '../processor/dag-bag.js';
import { installConsoleCapture, withTaskConsole } from '../worker/console-capture.js';
import { OutletEventCollector } from '../worker/outlet-events.js';
import { createTaskLogger, type LogLineSink } from '../worker/task-log.js';
import type { ThreadAbortRequest, ThreadError, ThreadMessage, ThreadRunRequest } from './task-thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('task-thread-worker must run in a worker thread');
const send = (message: ThreadMessage): void => port.postMessage(message);

const dags = new DagBag((workerData as { projectDir: string }).projectDir);
installConsoleCapture();
/** The try running now and its abort controller. */
let current: { id: number; abort: AbortController } | null = null;

function describe(error: unknown): ThreadError {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as Error & { code?: unknown }).code;
  return {
    name: e.name,
    message: e.message,
    stack: e.stack ?? null,
    code: typeof code === 'string' ? code : null,
    skip: e instanceof SkipTaskError,
  };
}

async function run(request: ThreadRunRequest): Promise<void> {
  const abort = new AbortController();
  current = { id: request.id, abort };
  const { context: facts } = request;
  const sink: LogLineSink = { write: (level, message, at = new Date()) => send({ type: 'log', id: request.id, level, message, at }) };
  const outlets = new OutletEventCollector({ dagId: facts.dagId, taskId: facts.taskId }, request.outlets);
  try {
    const dag = await dags.getDag(request.file, facts.dagId);
    const fn = dag.tasks.get(facts.taskId)?.fn;
    if (!fn) {
      throw new TributaryError(
        'TASK_CODE_MISSING',
        `${request.file}: DAG '${facts.dagId}': task '${facts.taskId}' is no longer defined as a function in the file (it changed after this run was created)`,
      );
    }
    let logger: TaskContext['log'] | undefined;
    const context: TaskContext = {
      ...facts,
      get log() {
        return (logger ??= createTaskLogger(sink));
      },
      signal: abort.signal,
      outletEvents: outlets,
    };
    const value = await withTaskConsole(sink, () => fn(context));
    const outletExtras = Object.fromEntries(outlets.events(Number.MAX_SAFE_INTEGER).map((event) => [event.uri, event.extra]));
    try {
      send({ type: 'result', id: request.id, value, outletExtras });
    } catch (error) {
      // Functions, symbols and the like cannot leave the thread (nor be stored as XCom).
      throw new TributaryError('XCOM_NOT_JSON', `DAG '${facts.dagId}': task '${facts.taskId}': result cannot leave the task's thread: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } catch (error) {
    send({ type: 'error', id: request.id, error: describe(error) });
  } finally {
    current = null;
  }
}

port.on('message', (message: ThreadRunRequest | ThreadAbortRequest) => {
  if (message.type === 'run') void run(message);
  else if (current?.id === message.id) {
    const reason = new Error(message.reason.message);
    reason.name = message.reason.name;
    current.abort.abort(reason);
  }
});
send({ type: 'ready' });
