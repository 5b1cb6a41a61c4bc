import { sql, type Kysely } from 'kysely';
import type { Database, DagRunRow, RunState, TaskState } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { EngineContext } from '../scheduler/context.js';
import { createRun } from '../scheduler/run-lifecycle.js';
import { recordAudit, type Actor } from './audit.js';

/** Options of {@link triggerDag}. */
export interface TriggerOptions {
  /** Run params, validated against the DAG's schema. */
  params?: unknown;
  /** Run id; defaults to `manual__<logical date>`. */
  runId?: string;
  /** Logical date; defaults to now. */
  logicalDate?: Date;
  /** Who asked (user name, `cli`, `api`). */
  triggeredBy?: string;
  /** Record a `trigger` audit entry for this actor. */
  actor?: Actor;
}

/**
 * Create a manual run of a DAG now. Throws `ParamsValidationError` (nothing is created) when the
 * params do not match the DAG's schema, `NotFoundError` for an unknown DAG.
 */
export async function triggerDag(ctx: EngineContext, dagId: string, options: TriggerOptions = {}): Promise<DagRunRow> {
  const at = options.logicalDate ?? new Date();
  const run = await createRun(ctx, {
    dagId,
    runType: 'manual',
    runId: options.runId,
    logicalDate: at,
    dataInterval: { start: at, end: at },
    params: options.params,
    triggeredBy: options.triggeredBy,
  });
  if (options.actor) await recordAudit(ctx.db, options.actor, { action: 'trigger', dagId, runId: run.run_id, details: { params: run.conf } });
  return run;
}

/** A run found by DAG and run id. */
export async function getRun(db: Kysely<Database>, dagId: string, runId: string): Promise<DagRunRow> {
  const run = await db.selectFrom('tributary.dag_run').selectAll().where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst();
  if (!run) throw new NotFoundError(`run '${runId}' of DAG '${dagId}'`, { dagId });
  return run;
}

/** A task instance of a run, summarized. */
export interface TaskInstanceSummary {
  id: number;
  taskId: string;
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  maxTries: number;
  startDate: Date | null;
  endDate: Date | null;
  durationMs: number | null;
}

/** The task instances of a run, in task order of the DAG version they belong to. */
export async function listTaskInstances(db: Kysely<Database>, runPk: number): Promise<TaskInstanceSummary[]> {
  const rows = await sql<{
    id: number; task_id: string; map_index: number; state: TaskState | null; try_number: number; max_tries: number;
    start_date: Date | null; end_date: Date | null;
  }>`
    SELECT id, task_id, map_index, state, try_number, max_tries, start_date, end_date
      FROM tributary.task_instance WHERE run_pk = ${runPk} ORDER BY id, map_index`.execute(db);
  return rows.rows.map((r) => ({
    id: r.id,
    taskId: r.task_id,
    mapIndex: r.map_index,
    state: r.state,
    tryNumber: r.try_number,
    maxTries: r.max_tries,
    startDate: r.start_date,
    endDate: r.end_date,
    durationMs: r.start_date && r.end_date ? r.end_date.getTime() - r.start_date.getTime() : null,
  }));
}

/** Options of {@link waitForRun}. */
export interface WaitOptions {
  /** Give up after this long (rejects). */
  timeoutMs?: number;
  /** How often to look. @defaultValue 50 */
  pollMs?: number;
  /** Called whenever a task instance's state or try changes. */
  onChange?: (instance: TaskInstanceSummary) => void;
  signal?: AbortSignal;
}

/** Wait until a run is `success` or `failed`; resolves with the final state. */
export async function waitForRun(db: Kysely<Database>, runPk: number, options: WaitOptions = {}): Promise<RunState> {
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  const seen = new Map<number, string>();
  for (;;) {
    options.signal?.throwIfAborted();
    if (options.onChange) {
      for (const ti of await listTaskInstances(db, runPk)) {
        const key = `${ti.state}:${ti.tryNumber}`;
        if (seen.get(ti.id) !== key) {
          seen.set(ti.id, key);
          options.onChange(ti);
        }
      }
    }
    const run = await db.selectFrom('tributary.dag_run').select('state').where('id', '=', runPk).executeTakeFirst();
    if (!run) throw new NotFoundError(`run ${runPk}`);
    if (run.state === 'success' || run.state === 'failed') return run.state;
    if (Date.now() > deadline) throw new Error(`run ${runPk} did not finish within ${options.timeoutMs} ms (state ${run.state})`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
  }
}
