import { sql, type Transaction } from 'kysely';
import type { Database, TaskState } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { withSetupsAndTeardowns } from '../dag/setup-teardown.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { advanceRun } from '../scheduler/advance.js';
import type { DagStructure, EngineContext } from '../scheduler/context.js';
import { finishRunIfDone, startQueuedRuns } from '../scheduler/run-lifecycle.js';
import { recordAudit, type Actor } from './audit.js';
import { dagNotFound, setDagPaused } from './dags.js';

/** Which task instances of a run an action applies to. */
export interface TaskSelection {
  dagId: string;
  runId: string;
  /** Task ids; every task of the run when left out. */
  taskIds?: readonly string[];
  /** Also every task downstream of the selected ones (transitively). */
  downstream?: boolean;
  /** Also every task upstream of the selected ones (transitively). */
  upstream?: boolean;
}

/** A task instance an action changed. */
export interface ChangedTaskInstance {
  taskId: string;
  mapIndex: number;
  previousState: TaskState | null;
}

/** A run an action applies to. @internal */
export interface RunRef {
  id: number;
  dag_id: string;
  run_id: string;
  state: string;
  dag_version_id: number;
}

/**
 * A run and the structure of its DAG version; `NotFoundError` naming the DAG when it is unknown, else
 * the run. @internal
 */
export async function findRun(ctx: EngineContext, dagId: string, runId: string): Promise<{ run: RunRef; structure: DagStructure }> {
  const run = await ctx.db
    .selectFrom('tributary.dag_run')
    .select(['id', 'dag_id', 'run_id', 'state', 'dag_version_id'])
    .where('dag_id', '=', dagId)
    .where('run_id', '=', runId)
    .executeTakeFirst();
  if (!run) {
    const dag = await ctx.db.selectFrom('tributary.dag').select('dag_id').where('dag_id', '=', dagId).executeTakeFirst();
    throw dag ? new NotFoundError(`run '${runId}' of DAG '${dagId}'`, { dagId }) : await dagNotFound(ctx.db, dagId);
  }
  return { run, structure: await ctx.versions.get(run.dag_version_id) };
}

/**
 * End the open try of instances an action changed while they ran, so every try has an end and an
 * outcome; the worker running it stops at its next heartbeat and its late result is discarded.
 */
async function closeOpenTries(trx: Transaction<Database>, tiIds: readonly number[], state: TaskState, reason: string): Promise<void> {
  if (tiIds.length === 0) return;
  const error = state === 'success' ? null : JSON.stringify({ name: 'ExternalStateChange', message: reason });
  await sql`
    UPDATE tributary.task_try SET state = ${state}, end_date = now(), error = ${error}::jsonb,
           duration_ms = (extract(epoch FROM now() - start_date) * 1000)::int
     WHERE ti_id = ANY(${[...tiIds]}::bigint[]) AND end_date IS NULL`.execute(trx);
}

/** Changed instances in the DAG's task order (then map index). */
function inTaskOrder(structure: DagStructure, rows: readonly { task_id: string; map_index: number; previous: TaskState | null }[]): ChangedTaskInstance[] {
  const order = new Map([...structure.tasks.keys()].map((id, i) => [id, i]));
  return rows
    .map((r) => ({ taskId: r.task_id, mapIndex: r.map_index, previousState: r.previous }))
    .sort((a, b) => (order.get(a.taskId) ?? 0) - (order.get(b.taskId) ?? 0) || a.mapIndex - b.mapIndex);
}

/**
 * The task ids of changed instances for an audit entry: once each (a mapped task changes several
 * instances) and in task order (`taskIds` is), not in the order the update happened to return them.
 */
function changedTasks(taskIds: readonly string[], rows: readonly { task_id: string }[]): string[] {
  const changed = new Set(rows.map((r) => r.task_id));
  return taskIds.filter((id) => changed.has(id));
}

/** Expand a selection to task ids, following downstream/upstream edges when asked. */
export function selectTasks(structure: DagStructure, selection: Omit<TaskSelection, 'dagId' | 'runId'>): string[] {
  const start = selection.taskIds ?? [...structure.tasks.keys()];
  for (const id of start) {
    if (!structure.tasks.has(id)) throw new NotFoundError(`task '${id}' in DAG '${structure.serialized.dagId}'`, { taskId: id });
  }
  const chosen = new Set(start);
  const walk = (direction: 'downstream' | 'upstream'): void => {
    const stack = [...start];
    while (stack.length > 0) {
      for (const next of structure.tasks.get(stack.pop()!)![direction]) {
        if (!chosen.has(next)) {
          chosen.add(next);
          stack.push(next);
        }
      }
    }
  };
  if (selection.downstream) walk('downstream');
  if (selection.upstream) walk('upstream');
  return [...structure.tasks.keys()].filter((id) => chosen.has(id));
}

/**
 * The tasks a clear of `selection` applies to, in task order: the selection with its downstream or
 * upstream tasks when asked, and — as in Airflow — the setups a cleared task needs and their teardowns.
 */
export function clearSelection(structure: DagStructure, selection: Omit<TaskSelection, 'dagId' | 'runId'>): string[] {
  const selected = withSetupsAndTeardowns(structure.tasks, selectTasks(structure, selection), Boolean(selection.upstream));
  return [...structure.tasks.keys()].filter((id) => selected.has(id));
}

/**
 * Clear task instances so they run again (Airflow's "clear"): their state is reset, each gets its full
 * retries again on top of the tries it used, a running one is stopped by its worker at the next
 * heartbeat, and a finished run goes back to running. The setup tasks a cleared task needs (and
 * their teardowns) are cleared with it, and a setup's teardowns with the setup. A cleared mapped task
 * expands again when it runs. Returns the instances cleared.
 */
export async function clearTaskInstances(
  ctx: EngineContext,
  selection: TaskSelection & { onlyFailed?: boolean },
  actor: Actor,
): Promise<ChangedTaskInstance[]> {
  const { run, structure } = await findRun(ctx, selection.dagId, selection.runId);
  const taskIds = clearSelection(structure, selection);
  const cleared = await withTransaction(ctx.db, (trx) => clearInTransaction(trx, run, structure, taskIds, selection, actor));
  if (cleared.length > 0) await startQueuedRuns(ctx, run.dag_id);
  return inTaskOrder(structure, cleared);
}

/**
 * The writes of {@link clearTaskInstances} for already selected tasks, in the caller's transaction;
 * the caller starts the run again (`startQueuedRuns`) after committing. @internal
 */
export async function clearInTransaction(
  trx: Transaction<Database>,
  run: RunRef,
  structure: DagStructure,
  taskIds: readonly string[],
  options: { onlyFailed?: boolean; downstream?: boolean; upstream?: boolean },
  actor: Actor,
): Promise<{ id: number; task_id: string; map_index: number; previous: TaskState | null }[]> {
  const retries = taskIds.map((id) => structure.tasks.get(id)!.retries);
  const changed = await sql<{ id: number; task_id: string; map_index: number; previous: TaskState | null }>`
    WITH target AS (
      SELECT t.id, t.state AS previous FROM tributary.task_instance t
        JOIN unnest(${taskIds}::text[], ${retries}::int[]) AS s(task_id, retries) ON s.task_id = t.task_id
       WHERE t.run_pk = ${run.id} AND t.state IS NOT NULL
         ${options.onlyFailed ? sql`AND t.state IN ('failed', 'upstream_failed')` : sql``}
       FOR UPDATE OF t
    )
    UPDATE tributary.task_instance t
       SET state = NULL, max_tries = t.try_number + s.retries + 1, start_date = NULL, end_date = NULL,
           next_retry_at = NULL, heartbeat_at = NULL, resuming = false, updated_at = now()
      FROM target, unnest(${taskIds}::text[], ${retries}::int[]) AS s(task_id, retries)
     WHERE t.id = target.id AND s.task_id = t.task_id
    RETURNING t.id, t.task_id, t.map_index, target.previous`.execute(trx);
  if (changed.rows.length > 0) {
    await closeOpenTries(trx, changed.rows.map((r) => r.id), 'failed', `cleared by ${actor.name}`);
    await trx.updateTable('tributary.dag_run').set({ state: 'queued', end_date: null }).where('id', '=', run.id).where('state', 'in', ['success', 'failed', 'running']).execute();
    await recordAudit(trx, actor, {
      action: 'clear',
      dagId: run.dag_id,
      runId: run.run_id,
      details: { tasks: changedTasks(taskIds, changed.rows), downstream: Boolean(options.downstream), upstream: Boolean(options.upstream), onlyFailed: Boolean(options.onlyFailed) },
    });
  }
  return changed.rows;
}

/**
 * Set task instances to `success` or `failed` by hand. A running one is stopped at its worker's next
 * heartbeat; downstream tasks are then evaluated as if it had finished that way.
 */
export async function markTaskInstances(
  ctx: EngineContext,
  selection: TaskSelection,
  state: 'success' | 'failed',
  actor: Actor,
): Promise<ChangedTaskInstance[]> {
  const { run, structure } = await findRun(ctx, selection.dagId, selection.runId);
  if (run.state === 'queued') throw new InvalidStateError(`run '${run.run_id}' has not started yet`, { dagId: run.dag_id });
  const taskIds = selectTasks(structure, selection);
  const changed = await withTransaction(ctx.db, async (trx) => {
    const rows = await sql<{ id: number; task_id: string; map_index: number; previous: TaskState | null }>`
      WITH target AS (
        SELECT id, state AS previous FROM tributary.task_instance
         WHERE run_pk = ${run.id} AND task_id = ANY(${taskIds}) AND state IS DISTINCT FROM ${state}
         FOR UPDATE
      )
      UPDATE tributary.task_instance t SET state = ${state}, end_date = now(), next_retry_at = NULL, updated_at = now()
        FROM target WHERE t.id = target.id
      RETURNING t.id, t.task_id, t.map_index, target.previous`.execute(trx);
    if (rows.rows.length > 0) {
      await closeOpenTries(trx, rows.rows.filter((r) => r.previous === 'running').map((r) => r.id), state, `marked ${state} by ${actor.name}`);
      await trx.updateTable('tributary.dag_run').set({ state: 'running', end_date: null }).where('id', '=', run.id).where('state', 'in', ['success', 'failed']).execute();
      await recordAudit(trx, actor, { action: `mark_${state}`, dagId: run.dag_id, runId: run.run_id, details: { tasks: changedTasks(taskIds, rows.rows) } });
      const marked = new Set(rows.rows.map((r) => r.task_id));
      const downstream = [...new Set([...marked].flatMap((id) => structure.tasks.get(id)!.downstream))].filter((id) => !marked.has(id));
      await advanceRun(trx, ctx, run, structure, downstream);
    }
    return rows.rows;
  });
  await finishRunIfDone(ctx, run.id);
  return inTaskOrder(structure, changed);
}

/**
 * Stop a run (Airflow's "mark run failed"): running task instances become `failed` (their workers stop
 * them at the next heartbeat), those not finished become `skipped`, and the run `failed`.
 */
export async function cancelRun(ctx: EngineContext, dagId: string, runId: string, actor: Actor): Promise<ChangedTaskInstance[]> {
  const { run, structure } = await findRun(ctx, dagId, runId);
  if (run.state === 'success' || run.state === 'failed') {
    throw new InvalidStateError(`run '${runId}' already finished (${run.state})`, { dagId });
  }
  const changed = await withTransaction(ctx.db, async (trx) => {
    const rows = await sql<{ id: number; task_id: string; map_index: number; previous: TaskState | null }>`
      WITH target AS (
        SELECT id, state AS previous FROM tributary.task_instance
         WHERE run_pk = ${run.id} AND (state IS NULL OR state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed'))
         FOR UPDATE
      )
      UPDATE tributary.task_instance t
         SET state = CASE WHEN target.previous = 'running' THEN 'failed' ELSE 'skipped' END,
             end_date = now(), next_retry_at = NULL, updated_at = now()
        FROM target WHERE t.id = target.id
      RETURNING t.id, t.task_id, t.map_index, target.previous`.execute(trx);
    await closeOpenTries(trx, rows.rows.filter((r) => r.previous === 'running').map((r) => r.id), 'failed', `run cancelled by ${actor.name}`);
    await trx.updateTable('tributary.dag_run').set({ state: 'failed', end_date: new Date() }).where('id', '=', run.id).execute();
    await recordAudit(trx, actor, { action: 'cancel_run', dagId, runId, details: { stopped: rows.rows.length } });
    return rows.rows;
  });
  await startQueuedRuns(ctx, dagId);
  return inTaskOrder(structure, changed);
}

/** Pause or unpause a DAG, with an audit entry. */
export async function pauseDag(ctx: EngineContext, dagId: string, paused: boolean, actor: Actor): Promise<void> {
  await withTransaction(ctx.db, async (trx) => {
    await setDagPaused(trx, dagId, paused);
    await recordAudit(trx, actor, { action: paused ? 'pause' : 'unpause', dagId });
  });
  if (!paused) await startQueuedRuns(ctx, dagId);
}
