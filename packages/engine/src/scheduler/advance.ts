import { sql, type Transaction } from 'kysely';
import { evaluateTriggerRule, type UpstreamStateCounts } from '../dag/trigger-rules.js';
import type { Database, TaskState } from '../db/schema.js';
import type { DagStructure, EngineContext } from './context.js';
import { queueScheduled } from './queue-scheduled.js';

/** What {@link advanceRun} changed. */
export interface AdvanceResult {
  /** Task instances whose dependencies are now met (`scheduled`). */
  scheduled: number;
  /** Task instances settled without running (`skipped`, `upstream_failed`). */
  settled: number;
  /** Task instances sent to workers. */
  queued: number;
}

type States = Map<string, TaskState | null>;

async function loadStates(
  trx: Transaction<Database>,
  runPk: number,
  taskIds: readonly string[] | null,
): Promise<States> {
  const rows =
    taskIds === null
      ? await sql<{ task_id: string; state: TaskState | null }>`
          SELECT task_id, state FROM tributary.task_instance WHERE run_pk = ${runPk} AND map_index = -1`.execute(trx)
      : await sql<{ task_id: string; state: TaskState | null }>`
          SELECT task_id, state FROM tributary.task_instance
           WHERE run_pk = ${runPk} AND map_index = -1 AND task_id = ANY(${taskIds})`.execute(trx);
  return new Map(rows.rows.map((r) => [r.task_id, r.state]));
}

function countUpstream(structure: DagStructure, taskId: string, states: States): UpstreamStateCounts {
  const counts: UpstreamStateCounts = {
    total: 0,
    success: 0,
    failed: 0,
    upstreamFailed: 0,
    skipped: 0,
    removed: 0,
    setupTotal: 0,
    setupSuccess: 0,
    setupSkipped: 0,
  };
  for (const upstream of structure.tasks.get(taskId)!.upstream) {
    counts.total++;
    switch (states.get(upstream)) {
      case 'success':
        counts.success++;
        break;
      case 'failed':
        counts.failed++;
        break;
      case 'upstream_failed':
        counts.upstreamFailed++;
        break;
      case 'skipped':
        counts.skipped++;
        break;
      case 'removed':
        counts.removed++;
        break;
      default:
        break;
    }
  }
  return counts;
}

/**
 * Evaluate the trigger rules of a run's waiting task instances (`candidates`, or every task) against
 * their upstream states: ready ones become `scheduled` and are queued within pool and DAG limits;
 * ones that can never run become `skipped` or `upstream_failed`, and that settles their own
 * downstream tasks in turn, all in one pass.
 *
 * Called right after a task instance finishes (with its downstream tasks as candidates), so a
 * dependency hop costs milliseconds; and by the scheduler's sweep with every task. Reading states
 * after the caller's own commit, and changing a state only `WHERE state IS NULL`, make concurrent
 * evaluations of the same run safe: the last finisher always sees every upstream finished.
 */
export async function advanceRun(
  trx: Transaction<Database>,
  ctx: EngineContext,
  run: { id: number; dag_id: string },
  structure: DagStructure,
  candidates: readonly string[] | 'all',
): Promise<AdvanceResult> {
  const result: AdvanceResult = { scheduled: 0, settled: 0, queued: 0 };
  let states: States;
  let complete: boolean;
  if (candidates === 'all') {
    states = await loadStates(trx, run.id, null);
    complete = true;
  } else {
    if (candidates.length === 0) return result;
    const needed = new Set(candidates);
    for (const id of candidates) for (const up of structure.tasks.get(id)?.upstream ?? []) needed.add(up);
    states = await loadStates(trx, run.id, [...needed]);
    complete = false;
  }

  const decisions = new Map<string, TaskState>();
  const pending = candidates === 'all' ? [...structure.tasks.keys()] : [...candidates];
  while (pending.length > 0) {
    const taskId = pending.shift()!;
    if (!structure.tasks.has(taskId) || states.get(taskId) !== null) continue;
    const task = structure.tasks.get(taskId)!;
    const decision = evaluateTriggerRule(task.triggerRule, countUpstream(structure, taskId, states));
    if (decision === 'wait') continue;
    const state: TaskState = decision === 'run' ? 'scheduled' : decision;
    states.set(taskId, state);
    decisions.set(taskId, state);
    if (state !== 'scheduled' && task.downstream.length > 0) {
      // A settled task can settle its downstream tasks: they need their other upstreams' states too.
      if (!complete) {
        const all = await loadStates(trx, run.id, null);
        for (const [id, s] of states) all.set(id, s);
        states = all;
        complete = true;
      }
      pending.push(...task.downstream);
    }
  }
  if (decisions.size === 0) return result;

  const ids = [...decisions.keys()];
  const changed = await sql<{ task_id: string; state: TaskState }>`
    UPDATE tributary.task_instance t
       SET state = v.state,
           end_date = CASE WHEN v.state = 'scheduled' THEN t.end_date ELSE now() END,
           updated_at = now()
      FROM unnest(${ids}::text[], ${ids.map((id) => decisions.get(id)!)}::text[]) AS v(task_id, state)
     WHERE t.run_pk = ${run.id} AND t.map_index = -1 AND t.task_id = v.task_id AND t.state IS NULL
    RETURNING t.task_id, t.state
  `.execute(trx);
  for (const row of changed.rows) {
    if (row.state === 'scheduled') result.scheduled++;
    else result.settled++;
  }
  if (result.scheduled > 0) result.queued = await queueScheduled(trx, ctx, [run.dag_id]);
  return result;
}
