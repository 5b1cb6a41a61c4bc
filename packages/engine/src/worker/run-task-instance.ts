import { sql } from 'kysely';
import type { TaskState } from '../db/schema.js';
import { InvalidStateError, NotFoundError, TaskCancelledError, WorkerShutdownError } from '../errors.js';
import { claimTaskInstance, type ClaimedTaskInstance, type WorkerIdentity } from '../scheduler/task-transitions.js';
import { installConsoleCapture } from './console-capture.js';
import { runClaimedTask, type TaskRunnerDeps } from './task-runner.js';

/** One try of one task instance, as `tributary tasks run` names it. */
export interface TaskTryRef {
  dagId: string;
  runId: string;
  taskId: string;
  /** @defaultValue -1 */
  mapIndex?: number;
  tryNumber: number;
}

/** How a try run by {@link runTaskInstance} ended. */
export interface TaskTryResult {
  /** The instance's state afterwards (`success`, `failed`, `up_for_retry`, `skipped`, …). */
  state: TaskState | null;
  tryNumber: number;
}

const CLAIMED_COLUMNS = sql`c.id, c.run_pk AS "runPk", c.dag_id AS "dagId", c.task_id AS "taskId", c.map_index AS "mapIndex",
  c.try_number AS "tryNumber", c.max_tries AS "maxTries", c.pool, r.run_id AS "runId", r.run_type AS "runType",
  r.logical_date AS "logicalDate", r.data_interval_start AS "dataIntervalStart",
  r.data_interval_end AS "dataIntervalEnd", r.conf, r.dag_version_id AS "dagVersionId"`;

/**
 * Take over try `tryNumber` of a running instance (claimed by the worker that started this process's
 * pod): it now runs here, so hostname and pid become this process's. Null when the instance is no
 * longer running that try.
 */
async function adoptTry(deps: TaskRunnerDeps, tiId: number, tryNumber: number, identity: WorkerIdentity): Promise<ClaimedTaskInstance | null> {
  const result = await sql<ClaimedTaskInstance>`
    WITH adopted AS (
      UPDATE tributary.task_instance SET hostname = ${identity.hostname}, pid = ${identity.pid}, heartbeat_at = now(), updated_at = now()
       WHERE id = ${tiId} AND state = 'running' AND try_number = ${tryNumber}
      RETURNING id, run_pk, dag_id, task_id, map_index, try_number, max_tries, pool
    ), tried AS (
      UPDATE tributary.task_try t SET hostname = ${identity.hostname}, pid = ${identity.pid}
        FROM adopted a WHERE t.ti_id = a.id AND t.try_number = a.try_number
    )
    SELECT ${CLAIMED_COLUMNS} FROM adopted c JOIN tributary.dag_run r ON r.id = c.run_pk`.execute(deps.ctx.db);
  return result.rows[0] ?? null;
}

/**
 * Run one try of one task instance in this process, to the end: what a pod of the `kubernetes`
 * executor does. The try is the one a worker claimed for the pod (running at `tryNumber`), or, run by
 * hand, a queued instance this process claims itself. Heart-beats while it runs and stops the task
 * when its state is changed elsewhere; `shutdown` aborting (SIGTERM) fails the try so it is retried.
 */
export async function runTaskInstance(
  deps: TaskRunnerDeps,
  ref: TaskTryRef,
  identity: WorkerIdentity,
  shutdown: AbortSignal,
): Promise<TaskTryResult> {
  const { ctx } = deps;
  const mapIndex = ref.mapIndex ?? -1;
  const found = await sql<{ id: number; state: TaskState | null; try_number: number; resuming: boolean }>`
    SELECT t.id, t.state, t.try_number, t.resuming FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
     WHERE r.dag_id = ${ref.dagId} AND r.run_id = ${ref.runId} AND t.task_id = ${ref.taskId} AND t.map_index = ${mapIndex}`.execute(ctx.db);
  const row = found.rows[0];
  const where = `task '${ref.taskId}'${mapIndex >= 0 ? ` [${mapIndex}]` : ''} in run '${ref.runId}' of DAG '${ref.dagId}'`;
  if (!row) throw new NotFoundError(where, { dagId: ref.dagId, taskId: ref.taskId });
  let claimed: ClaimedTaskInstance | null = null;
  if (row.state === 'running' && row.try_number === ref.tryNumber) claimed = await adoptTry(deps, row.id, ref.tryNumber, identity);
  // A queued sensor resuming after a reschedule continues its current try rather than starting the next.
  else if (row.state === 'queued' && row.try_number === ref.tryNumber - (row.resuming ? 0 : 1)) {
    claimed = await claimTaskInstance(ctx, { tiId: row.id, tryNumber: row.try_number }, identity);
  }
  if (!claimed) {
    throw new InvalidStateError(
      `${where} is ${row.state ?? 'without status'} at try ${row.try_number}: there is no try ${ref.tryNumber} to run (it was cleared, marked or retried meanwhile)`,
      { dagId: ref.dagId, taskId: ref.taskId },
    );
  }

  const abort = new AbortController();
  const onShutdown = (): void => abort.abort(new WorkerShutdownError(ref.dagId, ref.taskId));
  shutdown.addEventListener('abort', onShutdown, { once: true });
  if (shutdown.aborted) onShutdown();
  const heartbeat = setInterval(() => {
    sql`UPDATE tributary.task_instance SET heartbeat_at = now() WHERE id = ${claimed.id} AND state = 'running' AND try_number = ${claimed.tryNumber} RETURNING id`
      .execute(ctx.db)
      .then((result) => {
        if (result.rows.length === 0 && !abort.signal.aborted) {
          abort.abort(new TaskCancelledError(ref.dagId, ref.taskId, 'its state was changed while it ran (marked, cleared or failed elsewhere)'));
        }
      })
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'heartbeat failed; will retry'));
  }, ctx.timings.heartbeatIntervalMs);
  const uncapture = installConsoleCapture();
  try {
    await runClaimedTask(deps, claimed, abort);
  } finally {
    clearInterval(heartbeat);
    shutdown.removeEventListener('abort', onShutdown);
    uncapture();
  }
  const after = await ctx.db.selectFrom('tributary.task_instance').select(['state', 'try_number']).where('id', '=', claimed.id).executeTakeFirstOrThrow();
  return { state: after.state, tryNumber: claimed.tryNumber };
}
