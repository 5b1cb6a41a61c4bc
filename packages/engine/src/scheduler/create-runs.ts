import { sql, type Kysely, type Transaction } from 'kysely';
import { validateParams } from '../dag/params.js';
import type { DataInterval, RunType } from '../dag/types.js';
import { Batcher, perOwner } from '../db/batcher.js';
import type { Database, DagRunRow } from '../db/schema.js';
import { StatisticsRefresher } from '../db/statistics.js';
import { withTransaction } from '../db/transaction.js';
import { InvalidInputError, InvalidStateError, NotFoundError, TributaryError } from '../errors.js';
import { advanceRuns, type AdvanceRequest } from './advance.js';
import type { DagStructure, EngineContext } from './context.js';
import { deadlineFor } from './deadlines.js';

/** What a new run is. */
export interface NewRun {
  dagId: string;
  runType: RunType;
  /** Defaults to `<runType>__<logical date ISO>`. */
  runId?: string;
  logicalDate: Date;
  dataInterval: DataInterval;
  /** Params; validated against the DAG's schema, defaults applied. */
  params?: unknown;
  /** Send every task of the run to this worker queue (used by `dags test`). */
  queueOverride?: string;
  triggeredBy?: string;
  /**
   * The backfill creating the run: it waits `queued` and starts within the backfill's own
   * `maxActiveRuns` (the DAG's does not apply to it).
   */
  backfillId?: number;
  /**
   * The logical date is simply the moment of a trigger, not a chosen date: it is not checked for
   * uniqueness (runs triggered in the same millisecond may share it). Any other logical date is
   * refused when a run of the DAG (other than a test run) already has it.
   */
  logicalDateIsNow?: boolean;
}

/** A run was requested with an id, or a logical date, that another run of the DAG already has. */
export class RunExistsError extends TributaryError {
  constructor(dagId: string, runId: string, logicalDate: Date) {
    super('RUN_EXISTS', `DAG '${dagId}': a run with id '${runId}' or logical date ${logicalDate.toISOString()} already exists`, {
      location: { dagId },
    });
  }
}

/** The default run id of a run type and logical date, as Airflow forms it. */
export function defaultRunId(runType: RunType, logicalDate: Date): string {
  return `${runType}__${logicalDate.toISOString()}`;
}

/** Longest run id (Airflow's limit too). */
export const MAX_RUN_ID_LENGTH = 250;

/**
 * Refuse a run id that is empty, longer than {@link MAX_RUN_ID_LENGTH} or holds a control character
 * (PostgreSQL cannot store U+0000; the others break logs, terminals and URLs). The message gives the
 * length or position rather than echoing the id.
 */
export function checkRunId(runId: string): void {
  const length = [...runId].length;
  if (length === 0 || length > MAX_RUN_ID_LENGTH) {
    throw new InvalidInputError('runId', `expected 1-${MAX_RUN_ID_LENGTH} characters, got ${length}`);
  }
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f]/.exec(runId);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new InvalidInputError('runId', `must not contain control characters, got U+${code} at position ${control.index + 1}`);
  }
}

/** Serialize run creation and starting for one DAG (its `maxActiveRuns` and logical dates). @internal */
export async function lockDagRuns(trx: Transaction<Database>, dagId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`tributary.dag-runs:${dagId}`}, 0))`.execute(trx);
}

/** Planner statistics of the metadata tables, refreshed after runs with many task instances. */
const taskInstanceStatistics = perOwner((db: Kysely<Database>) => new StatisticsRefresher((table) => sql.raw(`ANALYZE ${table}`).execute(db)));

type DagRow = { dag_id: string; is_active: boolean; is_paused: boolean; latest_version_id: number | null; max_active_runs: number };

/** A run that passed its checks, about to be inserted. */
interface Planned {
  index: number;
  input: NewRun;
  runId: string;
  conf: unknown;
  running: boolean;
}

/**
 * The checks and the starting decision of one DAG's new runs, in order, under its run lock: a
 * chosen logical date (not a trigger's "now") is refused when a run already has it — or an earlier
 * run of the batch; a run starts `running` while the DAG has fewer than `maxActiveRuns` running
 * (a test run always, a backfill's run never: the backfill starts it).
 */
async function planDagRuns(
  trx: Transaction<Database>,
  dag: DagRow,
  structure: DagStructure,
  entries: readonly { index: number; input: NewRun }[],
  results: (DagRunRow | TributaryError)[],
): Promise<Planned[]> {
  const valid: Planned[] = [];
  for (const { index, input } of entries) {
    const runId = input.runId ?? defaultRunId(input.runType, input.logicalDate);
    try {
      if (input.runId !== undefined) checkRunId(runId);
      valid.push({ index, input, runId, conf: validateParams(input.dagId, structure.serialized.params, input.params), running: false });
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      results[index] = error;
    }
  }
  if (valid.length === 0) return [];
  await lockDagRuns(trx, dag.dag_id);
  const chosen = valid.filter((p) => p.input.runType !== 'test' && !p.input.logicalDateIsNow);
  const taken = new Set<number>();
  if (chosen.length > 0) {
    const rows = await sql<{ logical_date: Date }>`
      SELECT DISTINCT logical_date FROM tributary.dag_run
       WHERE dag_id = ${dag.dag_id} AND logical_date = ANY(${chosen.map((p) => p.input.logicalDate)}::timestamptz[]) AND run_type <> 'test'`.execute(trx);
    for (const row of rows.rows) taken.add(row.logical_date.getTime());
  }
  const counted = valid.some((p) => p.input.runType !== 'test' && p.input.backfillId === undefined) && !dag.is_paused;
  let running = 0;
  if (counted) {
    const rows = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = ${dag.dag_id} AND state = 'running' AND backfill_id IS NULL`.execute(trx);
    running = rows.rows[0]?.n ?? 0;
  }
  const planned: Planned[] = [];
  for (const p of valid) {
    const { input } = p;
    if (input.runType !== 'test' && !input.logicalDateIsNow) {
      const at = input.logicalDate.getTime();
      if (taken.has(at)) {
        results[p.index] = new RunExistsError(input.dagId, p.runId, input.logicalDate);
        continue;
      }
      taken.add(at);
    }
    p.running = input.runType === 'test' || (input.backfillId === undefined && !dag.is_paused && running < dag.max_active_runs);
    if (p.running && input.backfillId === undefined) running++;
    planned.push(p);
  }
  return planned;
}

/**
 * Create runs of their DAGs' latest versions with all their task instances, in the caller's
 * transaction and with a few statements for any number of runs: each starts `running` (root tasks
 * queued at once) when its DAG has fewer than `maxActiveRuns` running runs, otherwise it waits
 * `queued`. A run that cannot be created gets its error in its place of the result — invalid params
 * (`ParamsValidationError`), an unknown or inactive DAG, a run id or logical date already taken
 * (`RunExistsError`) — and nothing is written for it; the others are created.
 */
export async function createRunsInTransaction(
  trx: Transaction<Database>,
  ctx: EngineContext,
  inputs: readonly NewRun[],
): Promise<(DagRunRow | TributaryError)[]> {
  const results: (DagRunRow | TributaryError)[] = new Array(inputs.length);
  const byDag = new Map<string, { index: number; input: NewRun }[]>();
  inputs.forEach((input, index) => {
    const list = byDag.get(input.dagId) ?? [];
    list.push({ index, input });
    byDag.set(input.dagId, list);
  });
  const dagIds = [...byDag.keys()].sort(); // run locks always taken in DAG id order
  const dags = await trx
    .selectFrom('tributary.dag')
    .select(['dag_id', 'is_active', 'is_paused', 'latest_version_id', 'max_active_runs'])
    .where('dag_id', 'in', dagIds)
    .execute();
  const dagById = new Map(dags.map((d) => [d.dag_id, d]));
  const toStart: AdvanceRequest[] = [];
  for (const dagId of dagIds) {
    const entries = byDag.get(dagId)!;
    const dag = dagById.get(dagId);
    if (!dag || dag.latest_version_id === null || !dag.is_active) {
      const error = !dag || dag.latest_version_id === null
        ? new NotFoundError(`DAG '${dagId}'`, { dagId })
        : new InvalidStateError('is not active (its file is gone or no longer defines it)', { dagId });
      for (const { index } of entries) results[index] = error;
      continue;
    }
    const structure = await ctx.versions.get(dag.latest_version_id, trx);
    const planned = await planDagRuns(trx, dag, structure, entries, results);
    if (planned.length === 0) continue;
    const now = new Date();
    const inserted = await trx
      .insertInto('tributary.dag_run')
      .values(
        planned.map((p) => ({
          dag_id: dagId,
          run_id: p.runId,
          dag_version_id: structure.versionId,
          run_type: p.input.runType,
          state: p.running ? ('running' as const) : ('queued' as const),
          logical_date: p.input.logicalDate,
          data_interval_start: p.input.dataInterval.start,
          data_interval_end: p.input.dataInterval.end,
          conf: JSON.stringify(p.conf),
          queue_override: p.input.queueOverride ?? null,
          triggered_by: p.input.triggeredBy ?? null,
          backfill_id: p.input.backfillId ?? null,
          queued_at: now,
          start_date: p.running ? now : null,
          deadline_at: structure.serialized.deadline
            ? deadlineFor(structure.serialized, { runType: p.input.runType, logicalDate: p.input.logicalDate, dataIntervalEnd: p.input.dataInterval.end, queuedAt: now })
            : null,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .execute();
    const byRunId = new Map(inserted.map((run) => [run.run_id, run]));
    const created: DagRunRow[] = [];
    const seen = new Set<DagRunRow>();
    for (const p of planned) {
      const run = byRunId.get(p.runId);
      // Two runs of the batch with one run id: the first is created, the second refused.
      if (run && !seen.has(run)) {
        seen.add(run);
        results[p.index] = run;
        created.push(run);
      } else {
        results[p.index] = new RunExistsError(dagId, p.runId, p.input.logicalDate);
      }
    }
    await insertTaskInstances(trx, structure, created);
    taskInstanceStatistics(ctx.db).note('tributary.task_instance', created.length * structure.serialized.tasks.length);
    for (const run of created) if (run.state === 'running') toStart.push({ run, structure, candidates: structure.roots });
  }
  if (toStart.length > 0) await advanceRuns(trx, ctx, toStart);
  return results;
}

/** Every task instance of `runs` (all of one DAG version), with no state yet: one statement. */
async function insertTaskInstances(trx: Transaction<Database>, structure: DagStructure, runs: readonly DagRunRow[]): Promise<void> {
  if (runs.length === 0) return;
  const tasks = structure.serialized.tasks;
  await sql`
    INSERT INTO tributary.task_instance
      (run_pk, dag_id, task_id, max_tries, pool, pool_slots, priority_weight, queue, operator)
    SELECT r.run_pk, ${structure.serialized.dagId}, t.task_id, t.max_tries, t.pool, t.pool_slots, t.priority, t.queue, t.operator
      FROM unnest(${runs.map((r) => r.id)}::bigint[]) AS r(run_pk)
     CROSS JOIN unnest(${tasks.map((t) => t.taskId)}::text[], ${tasks.map((t) => t.retries + 1)}::int[],
                  ${tasks.map((t) => t.pool)}::text[], ${tasks.map((t) => t.poolSlots)}::int[],
                  ${tasks.map((t) => t.effectivePriority)}::int[], ${tasks.map((t) => t.queue)}::text[],
                  ${tasks.map((t) => t.operator ?? (t.kind === 'function' ? 'function' : null))}::text[])
        AS t(task_id, max_tries, pool, pool_slots, priority, queue, operator)
  `.execute(trx);
}

/**
 * {@link createRunsInTransaction} for one run, inside the caller's transaction (so a run and what
 * caused it commit together). Throws the run's error.
 */
export async function createRunInTransaction(trx: Transaction<Database>, ctx: EngineContext, input: NewRun): Promise<DagRunRow> {
  const [result] = await createRunsInTransaction(trx, ctx, [input]);
  if (result instanceof Error) throw result;
  return result!;
}

/** Run creation of one engine context: calls made at the same time share one transaction. */
const runCreation = perOwner(
  (ctx: EngineContext) =>
    new Batcher<NewRun, DagRunRow | TributaryError>((inputs) => withTransaction(ctx.db, (trx) => createRunsInTransaction(trx, ctx, inputs))),
);

/**
 * Create a run of a DAG's latest version with all its task instances (see
 * {@link createRunsInTransaction}). Params are validated first; nothing is written when they are
 * invalid. Concurrent calls (a burst of triggers) are created together, in one transaction.
 */
export async function createRun(ctx: EngineContext, input: NewRun): Promise<DagRunRow> {
  const result = await runCreation(ctx).run(input);
  if (result instanceof Error) throw result;
  return result;
}
