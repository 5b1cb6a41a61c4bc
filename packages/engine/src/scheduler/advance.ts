import { sql, type Transaction } from 'kysely';
import { SKIP_DECISION_KEY } from '../dag/flow.js';
import { EMPTY_UPSTREAM_COUNTS, evaluateTriggerRule, type TriggerDecision, type UpstreamStateCounts } from '../dag/trigger-rules.js';
import type { Database, TaskState } from '../db/schema.js';
import type { DagStructure, EngineContext } from './context.js';
import { expandMappedTask } from './mapping.js';
import { queueScheduled } from './queue-scheduled.js';
import { executePrepared } from '../db/prepared.js';

/** What {@link advanceRun} changed. */
export interface AdvanceResult {
  /** Task instances whose dependencies are now met (`scheduled`). */
  scheduled: number;
  /** Task instances settled without running (`skipped`, `upstream_failed`). */
  settled: number;
  /** Task instances sent to workers. */
  queued: number;
}

/** One run to advance: evaluate `candidates` (or every task) of `run`. */
export interface AdvanceRequest {
  run: { id: number; dag_id: string };
  structure: DagStructure;
  candidates: readonly string[] | 'all';
}

/** What {@link advanceRuns} changed in one run. */
export interface RunAdvance {
  scheduled: number;
  settled: number;
}

/** The states of each task's instances (one for an unmapped task, one per map index for a mapped one). */
type States = Map<string, (TaskState | null)[]>;

/** A run being evaluated: its request (candidates merged) and the states known so far. */
interface RunWork {
  request: AdvanceRequest;
  candidates: Set<string> | 'all';
  states: States;
  /** `states` holds every task of the run (not only the candidates and their upstream tasks). */
  complete: boolean;
  flowSkips: Set<string> | null;
}

type StateRow = { run_pk: number; task_id: string; state: TaskState | null };

function addState(states: States, row: StateRow): void {
  const list = states.get(row.task_id);
  if (list) list.push(row.state);
  else states.set(row.task_id, [row.state]);
}

/** States of every task of `runs`. */
async function loadAllStates(trx: Transaction<Database>, runs: readonly number[]): Promise<Map<number, States>> {
  const byRun = new Map<number, States>(runs.map((id) => [id, new Map()]));
  if (runs.length === 0) return byRun;
  const rows = await executePrepared(trx, sql<StateRow>`
    SELECT run_pk, task_id, state FROM tributary.task_instance WHERE run_pk = ANY(${runs}::bigint[])`);
  for (const row of rows.rows) addState(byRun.get(Number(row.run_pk))!, row);
  return byRun;
}

/**
 * States of the tasks each run needs: every task for runs asking for all, else the candidates, their
 * upstream tasks and the setups they wait for — one statement for all runs.
 */
async function loadStates(trx: Transaction<Database>, work: readonly RunWork[]): Promise<void> {
  const all: number[] = [];
  const pairRuns: number[] = [];
  const pairTasks: string[] = [];
  for (const w of work) {
    if (w.candidates === 'all') {
      all.push(w.request.run.id);
      continue;
    }
    const needed = new Set(w.candidates);
    for (const id of w.candidates) {
      for (const up of w.request.structure.tasks.get(id)?.upstream ?? []) needed.add(up);
      for (const setup of w.request.structure.indirectSetups.get(id) ?? []) needed.add(setup);
    }
    for (const id of needed) {
      pairRuns.push(w.request.run.id);
      pairTasks.push(id);
    }
  }
  const rows = await executePrepared(trx, sql<StateRow>`
    SELECT t.run_pk, t.task_id, t.state FROM tributary.task_instance t WHERE t.run_pk = ANY(${all}::bigint[])
    UNION ALL
    SELECT t.run_pk, t.task_id, t.state
      FROM unnest(${pairRuns}::bigint[], ${pairTasks}::text[]) AS u(run_pk, task_id)
      JOIN tributary.task_instance t ON t.run_pk = u.run_pk AND t.task_id = u.task_id`);
  const byRun = new Map(work.map((w) => [w.request.run.id, w]));
  for (const row of rows.rows) addState(byRun.get(Number(row.run_pk))!.states, row);
}

/**
 * Tasks that succeeded branch and short-circuit tasks of the runs decided to skip (a cleared one's
 * old decision no longer counts), for runs of DAGs that have such tasks.
 */
async function loadFlowSkips(trx: Transaction<Database>, work: readonly RunWork[]): Promise<void> {
  const runs = work.filter((w) => w.request.structure.hasFlow);
  if (runs.length === 0) return;
  for (const w of runs) w.flowSkips = new Set();
  const rows = await executePrepared(trx, sql<{ run_pk: number; value: { skip?: string[] } }>`
    SELECT x.run_pk, x.value FROM tributary.xcom x
      JOIN tributary.task_instance t ON t.run_pk = x.run_pk AND t.task_id = x.task_id AND t.map_index = x.map_index
     WHERE x.run_pk = ANY(${runs.map((w) => w.request.run.id)}::bigint[]) AND x.key = ${SKIP_DECISION_KEY} AND t.state = 'success'`);
  const byRun = new Map(runs.map((w) => [w.request.run.id, w]));
  for (const row of rows.rows) for (const id of row.value.skip ?? []) byRun.get(Number(row.run_pk))!.flowSkips!.add(id);
}

/** No instance of the task has started or been settled (a mapped task not yet expanded, or cleared). */
function unstarted(states: States, taskId: string): boolean {
  const list = states.get(taskId);
  return list !== undefined && list.every((s) => s === null);
}

/**
 * Some instance of the task has no state: it has not started, or it was cleared — for a mapped task
 * possibly only some of its instances (`tasks clear --only-failed` clears just the failed ones).
 */
function waiting(states: States, taskId: string): boolean {
  return states.get(taskId)?.some((s) => s === null) ?? false;
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

/** Decisions for one run's tasks, or `'needs_all'` when a settled task's downstream tasks need every state. */
interface Evaluation {
  decisions: Map<string, TaskState>;
  /** Mapped tasks whose dependencies are met: they are expanded, not updated with the rest. */
  expand: string[];
}

function evaluate(w: RunWork): Evaluation | 'needs_all' {
  const { structure } = w.request;
  const states: States = new Map([...w.states].map(([id, list]) => [id, [...list]]));
  const decisions = new Map<string, TaskState>();
  const expand: string[] = [];
  const pending = w.candidates === 'all' ? [...structure.tasks.keys()] : [...w.candidates];
  while (pending.length > 0) {
    const taskId = pending.shift()!;
    if (!structure.tasks.has(taskId) || !waiting(states, taskId)) continue;
    const task = structure.tasks.get(taskId)!;
    let decision: TriggerDecision;
    if (w.flowSkips?.has(taskId)) {
      decision = 'skipped'; // a branch or short-circuit decided it, whatever its trigger rule
    } else {
      decision = evaluateTriggerRule(task.triggerRule, countUpstream(structure, taskId, states));
      if (decision === 'run') decision = evaluateSetups(structure.indirectSetups.get(taskId), states) ?? 'run';
    }
    if (decision === 'wait') continue;
    if (decision === 'run' && task.expand && unstarted(states, taskId)) {
      // Expanded after the other decisions are stored; its downstream tasks wait for its instances.
      expand.push(taskId);
      states.set(taskId, ['scheduled']);
      continue;
    }
    // The instances without a state get it (all of them but for a mapped task cleared in part, whose
    // cleared instances keep their map indexes and run again without a new expansion, as in Airflow).
    const state: TaskState = decision === 'run' ? 'scheduled' : decision;
    states.set(taskId, (states.get(taskId) ?? [null]).map((s) => s ?? state));
    decisions.set(taskId, state);
    if (state !== 'scheduled' && task.downstream.length > 0) {
      // A settled task can settle its downstream tasks: they need their other upstreams' states too.
      if (!w.complete) return 'needs_all';
      pending.push(...task.downstream);
    }
  }
  return { decisions, expand };
}

/**
 * Evaluate the trigger rules of the waiting task instances of several runs (`candidates` of each,
 * or every task) against their upstream states, with a few statements for all of them: ready
 * instances become `scheduled` and are queued within pool and DAG limits; ones that can never run
 * become `skipped` or `upstream_failed`, and that settles their own downstream tasks in turn.
 *
 * Called right after task instances finish (with their downstream tasks as candidates), so a
 * dependency hop costs milliseconds, and by the scheduler's sweep with every task. Reading states
 * after the finishers' own commits, and changing a state only `WHERE state IS NULL`, make concurrent
 * evaluations of the same run safe: the last finisher always sees every upstream finished.
 * Returns what changed per run id; the total queued is in `queued`.
 */
export async function advanceRuns(
  trx: Transaction<Database>,
  ctx: EngineContext,
  requests: readonly AdvanceRequest[],
  options: { alsoQueueDags?: readonly string[]; alsoQueuePools?: readonly string[] } = {},
): Promise<{ runs: Map<number, RunAdvance>; queued: number }> {
  const byRun = new Map<number, RunWork>();
  for (const request of requests) {
    const existing = byRun.get(request.run.id);
    if (!existing) {
      byRun.set(request.run.id, {
        request,
        candidates: request.candidates === 'all' ? 'all' : new Set(request.candidates),
        states: new Map(),
        complete: request.candidates === 'all',
        flowSkips: null,
      });
    } else if (request.candidates === 'all' || existing.candidates === 'all') {
      existing.candidates = 'all';
      existing.complete = true;
    } else {
      for (const id of request.candidates) existing.candidates.add(id);
    }
  }
  const work = [...byRun.values()].filter((w) => w.candidates === 'all' || w.candidates.size > 0);
  const runs = new Map<number, RunAdvance>(requests.map((r) => [r.run.id, { scheduled: 0, settled: 0 }]));
  const queueDags = new Set(options.alsoQueueDags ?? []);

  if (work.length > 0) {
    await loadStates(trx, work);
    await loadFlowSkips(trx, work);
    const evaluations = new Map<RunWork, Evaluation>();
    const incomplete: RunWork[] = [];
    for (const w of work) {
      const evaluation = evaluate(w);
      if (evaluation === 'needs_all') incomplete.push(w);
      else evaluations.set(w, evaluation);
    }
    if (incomplete.length > 0) {
      const full = await loadAllStates(trx, incomplete.map((w) => w.request.run.id));
      for (const w of incomplete) {
        w.states = full.get(w.request.run.id)!;
        w.complete = true;
        evaluations.set(w, evaluate(w) as Evaluation);
      }
    }

    const runIds: number[] = [];
    const taskIds: string[] = [];
    const newStates: string[] = [];
    for (const [w, evaluation] of evaluations) {
      for (const [taskId, state] of evaluation.decisions) {
        runIds.push(w.request.run.id);
        taskIds.push(taskId);
        newStates.push(state);
      }
    }
    if (runIds.length > 0) {
      const changed = await executePrepared(trx, sql<{ run_pk: number; state: TaskState }>`
        UPDATE tributary.task_instance t
           SET state = v.state,
               end_date = CASE WHEN v.state = 'scheduled' THEN t.end_date ELSE now() END,
               updated_at = now()
          FROM unnest(${runIds}::bigint[], ${taskIds}::text[], ${newStates}::text[]) AS v(run_pk, task_id, state)
         WHERE t.run_pk = v.run_pk AND t.task_id = v.task_id AND t.state IS NULL
        RETURNING t.run_pk, t.state`);
      for (const row of changed.rows) {
        const counts = runs.get(Number(row.run_pk))!;
        if (row.state === 'scheduled') counts.scheduled++;
        else counts.settled++;
      }
    }
    // Mapped tasks expand into their instances (rare: one at a time).
    for (const [w, evaluation] of evaluations) {
      for (const taskId of evaluation.expand) {
        const task = w.request.structure.tasks.get(taskId)!;
        const expansion = await expandMappedTask(trx, ctx, w.request.run, w.request.structure, task);
        if (expansion.state === 'scheduled') runs.get(w.request.run.id)!.scheduled += expansion.instances;
        else runs.get(w.request.run.id)!.settled++;
        if (expansion.state === 'skipped') {
          // An empty input: the task is skipped (a failed expansion recorded its failure itself).
          await executePrepared(trx, sql`UPDATE tributary.task_instance SET state = 'skipped', end_date = now(), updated_at = now()
                     WHERE run_pk = ${w.request.run.id} AND task_id = ${taskId} AND state IS NULL`);
        }
        // A mapped task settled without instances settles its downstream tasks at the next evaluation.
        if (expansion.state !== 'scheduled' && task.downstream.length > 0) {
          const again = await advanceRuns(trx, ctx, [{ run: w.request.run, structure: w.request.structure, candidates: task.downstream }]);
          const counts = again.runs.get(w.request.run.id)!;
          runs.get(w.request.run.id)!.scheduled += counts.scheduled;
          runs.get(w.request.run.id)!.settled += counts.settled;
        }
      }
    }
    for (const w of work) if (runs.get(w.request.run.id)!.scheduled > 0) queueDags.add(w.request.run.dag_id);
  }
  const queued = await queueScheduled(trx, ctx, [...queueDags], options.alsoQueuePools ?? []);
  return { runs, queued };
}

/**
 * Evaluate the trigger rules of a run's waiting task instances (`candidates`, or every task): see
 * {@link advanceRuns}.
 */
export async function advanceRun(
  trx: Transaction<Database>,
  ctx: EngineContext,
  run: { id: number; dag_id: string },
  structure: DagStructure,
  candidates: readonly string[] | 'all',
): Promise<AdvanceResult> {
  const { runs, queued } = await advanceRuns(trx, ctx, [{ run, structure, candidates }]);
  const counts = runs.get(run.id)!;
  return { scheduled: counts.scheduled, settled: counts.settled, queued };
}
