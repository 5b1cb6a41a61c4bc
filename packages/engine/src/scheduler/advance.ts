import { sql, type Transaction } from 'kysely';
import { SKIP_DECISION_KEY } from '../dag/flow.js';
import { EMPTY_UPSTREAM_COUNTS, evaluateTriggerRule, type TriggerDecision, type UpstreamStateCounts } from '../dag/trigger-rules.js';
import type { Database, TaskState } from '../db/schema.js';
import type { DagStructure, EngineContext } from './context.js';
import { expandMappedTask } from './mapping.js';
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

/** The states of each task's instances (one for an unmapped task, one per map index for a mapped one). */
type States = Map<string, (TaskState | null)[]>;

async function loadStates(
  trx: Transaction<Database>,
  runPk: number,
  taskIds: readonly string[] | null,
): Promise<States> {
  const rows =
    taskIds === null
      ? await sql<{ task_id: string; state: TaskState | null }>`
          SELECT task_id, state FROM tributary.task_instance WHERE run_pk = ${runPk}`.execute(trx)
      : await sql<{ task_id: string; state: TaskState | null }>`
          SELECT task_id, state FROM tributary.task_instance
           WHERE run_pk = ${runPk} AND task_id = ANY(${taskIds})`.execute(trx);
  const states: States = new Map();
  for (const row of rows.rows) {
    const list = states.get(row.task_id);
    if (list) list.push(row.state);
    else states.set(row.task_id, [row.state]);
  }
  return states;
}

/** No instance of the task has started or been settled (a mapped task not yet expanded, or cleared). */
function unstarted(states: States, taskId: string): boolean {
  const list = states.get(taskId);
  return list !== undefined && list.every((s) => s === null);
}

/** Upstream states counted per task instance, as Airflow counts them (a mapped upstream counts each instance). */
function countUpstream(structure: DagStructure, taskId: string, states: States): UpstreamStateCounts {
  const counts: UpstreamStateCounts = { ...EMPTY_UPSTREAM_COUNTS };
  for (const upstream of structure.tasks.get(taskId)!.upstream) {
    const isSetup = structure.tasks.get(upstream)?.isSetup === true;
    for (const state of states.get(upstream) ?? [null]) {
      counts.total++;
      if (isSetup) counts.setupTotal++;
      switch (state) {
        case 'success':
          counts.success++;
          if (isSetup) counts.setupSuccess++;
          break;
        case 'failed':
          counts.failed++;
          break;
        case 'upstream_failed':
          counts.upstreamFailed++;
          break;
        case 'skipped':
          counts.skipped++;
          if (isSetup) counts.setupSkipped++;
          break;
        case 'removed':
          counts.removed++;
          break;
        default:
          break;
      }
    }
  }
  return counts;
}

/**
 * The setup constraint (Airflow's): a task also waits for the setups in its scope that are not its
 * direct upstream tasks — a failed one makes it upstream_failed, a skipped one skipped.
 */
function evaluateSetups(setups: readonly string[] | undefined, states: States): TriggerDecision | null {
  if (!setups) return null;
  let waiting = false;
  for (const id of setups) {
    for (const state of states.get(id) ?? [null]) {
      if (state === 'failed' || state === 'upstream_failed') return 'upstream_failed';
      if (state === 'skipped') return 'skipped';
      if (state !== 'success' && state !== 'removed') waiting = true;
    }
  }
  return waiting ? 'wait' : null;
}

/**
 * Tasks that succeeded branch and short-circuit tasks of the run decided to skip (a cleared one's
 * old decision no longer counts).
 */
async function loadFlowSkips(trx: Transaction<Database>, runPk: number): Promise<Set<string>> {
  const rows = await sql<{ value: { skip?: string[] } }>`
    SELECT x.value FROM tributary.xcom x
      JOIN tributary.task_instance t ON t.run_pk = x.run_pk AND t.task_id = x.task_id AND t.map_index = x.map_index
     WHERE x.run_pk = ${runPk} AND x.key = ${SKIP_DECISION_KEY} AND t.state = 'success'`.execute(trx);
  return new Set(rows.rows.flatMap((r) => r.value.skip ?? []));
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
    for (const id of candidates) {
      for (const up of structure.tasks.get(id)?.upstream ?? []) needed.add(up);
      for (const setup of structure.indirectSetups.get(id) ?? []) needed.add(setup);
    }
    states = await loadStates(trx, run.id, [...needed]);
    complete = false;
  }

  const decisions = new Map<string, TaskState>();
  const flowSkips = structure.hasFlow ? await loadFlowSkips(trx, run.id) : null;
  const pending = candidates === 'all' ? [...structure.tasks.keys()] : [...candidates];
  while (pending.length > 0) {
    const taskId = pending.shift()!;
    if (!structure.tasks.has(taskId) || !unstarted(states, taskId)) continue;
    const task = structure.tasks.get(taskId)!;
    let decision: TriggerDecision;
    if (flowSkips?.has(taskId)) {
      decision = 'skipped'; // a branch or short-circuit decided it, whatever its trigger rule
    } else {
      decision = evaluateTriggerRule(task.triggerRule, countUpstream(structure, taskId, states));
      if (decision === 'run') decision = evaluateSetups(structure.indirectSetups.get(taskId), states) ?? 'run';
    }
    if (decision === 'wait') continue;
    let state: TaskState = decision === 'run' ? 'scheduled' : decision;
    if (state === 'scheduled' && task.expand) {
      const expansion = await expandMappedTask(trx, ctx, run, structure, task);
      if (expansion.state === 'scheduled') {
        result.scheduled += expansion.instances;
        states.set(taskId, ['scheduled']);
        continue;
      }
      state = expansion.state;
      if (state === 'failed') states.set(taskId, ['failed']);
    }
    if (state !== 'failed') {
      states.set(taskId, (states.get(taskId) ?? [null]).map(() => state));
      decisions.set(taskId, state);
    }
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
  if (decisions.size === 0) {
    if (result.scheduled > 0) result.queued = await queueScheduled(trx, ctx, [run.dag_id]);
    return result;
  }

  const ids = [...decisions.keys()];
  const changed = await sql<{ task_id: string; state: TaskState }>`
    UPDATE tributary.task_instance t
       SET state = v.state,
           end_date = CASE WHEN v.state = 'scheduled' THEN t.end_date ELSE now() END,
           updated_at = now()
      FROM unnest(${ids}::text[], ${ids.map((id) => decisions.get(id)!)}::text[]) AS v(task_id, state)
     WHERE t.run_pk = ${run.id} AND t.task_id = v.task_id AND t.state IS NULL
    RETURNING t.task_id, t.state
  `.execute(trx);
  for (const row of changed.rows) {
    if (row.state === 'scheduled') result.scheduled++;
    else result.settled++;
  }
  if (result.scheduled > 0) result.queued = await queueScheduled(trx, ctx, [run.dag_id]);
  return result;
}
