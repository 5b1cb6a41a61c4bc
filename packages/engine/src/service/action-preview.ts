import { sql, type RawBuilder } from 'kysely';
import type { TaskState } from '../db/schema.js';
import type { EngineContext } from '../scheduler/context.js';
import { clearSelection, findRun, selectTasks, type ChangedTaskInstance, type TaskSelection } from './actions.js';

/** What an action would change, for a confirmation step: the run's state and the instances affected. */
export interface ActionPreview {
  runState: string;
  /** The tasks the selection expands to (with downstream/upstream, setups and teardowns). */
  taskIds: string[];
  /** The task instances that would change, in task order, with their current state. */
  instances: ChangedTaskInstance[];
}

async function instancesOf(ctx: EngineContext, runPk: number, taskIds: readonly string[], where: RawBuilder<unknown>): Promise<ChangedTaskInstance[]> {
  if (taskIds.length === 0) return [];
  const rows = await sql<{ task_id: string; map_index: number; state: TaskState | null }>`
    SELECT task_id, map_index, state FROM tributary.task_instance
     WHERE run_pk = ${runPk} AND task_id = ANY(${[...taskIds]}::text[]) AND ${where}`.execute(ctx.db);
  const order = new Map(taskIds.map((id, i) => [id, i]));
  return rows.rows
    .map((r) => ({ taskId: r.task_id, mapIndex: r.map_index, previousState: r.state }))
    .sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)! || a.mapIndex - b.mapIndex);
}

/**
 * The task instances {@link clearTaskInstances} would clear for `selection`, without changing
 * anything (Airflow's dry run): same selection rules, same `onlyFailed` filter.
 */
export async function previewClear(ctx: EngineContext, selection: TaskSelection & { onlyFailed?: boolean }): Promise<ActionPreview> {
  const { run, structure } = await findRun(ctx, selection.dagId, selection.runId);
  const taskIds = clearSelection(structure, selection);
  const where = selection.onlyFailed ? sql`state IN ('failed', 'upstream_failed')` : sql`state IS NOT NULL`;
  return { runState: run.state, taskIds, instances: await instancesOf(ctx, run.id, taskIds, where) };
}

/** The task instances {@link markTaskInstances} would set to `state` for `selection`, without changing anything. */
export async function previewMark(ctx: EngineContext, selection: TaskSelection, state: 'success' | 'failed'): Promise<ActionPreview> {
  const { run, structure } = await findRun(ctx, selection.dagId, selection.runId);
  const taskIds = selectTasks(structure, selection);
  return { runState: run.state, taskIds, instances: await instancesOf(ctx, run.id, taskIds, sql`state IS DISTINCT FROM ${state}`) };
}

/** The task instances {@link cancelRun} would stop: those not finished yet. */
export async function previewCancel(ctx: EngineContext, dagId: string, runId: string): Promise<ActionPreview> {
  const { run, structure } = await findRun(ctx, dagId, runId);
  const taskIds = [...structure.tasks.keys()];
  const where = sql`(state IS NULL OR state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed'))`;
  return { runState: run.state, taskIds, instances: await instancesOf(ctx, run.id, taskIds, where) };
}
