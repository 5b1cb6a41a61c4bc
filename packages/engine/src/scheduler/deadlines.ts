import { sql } from 'kysely';
import type { SerializedDag } from '../dag/types.js';
import type { RunType } from '../dag/types.js';
import { callbackRunOf } from '../callback/callback-runner.js';
import type { EngineContext } from './context.js';

/**
 * When a new run's deadline alert fires if it has not finished: its reference time (logical date,
 * data interval end, or creation) plus `after`. Null when the DAG has no deadline, for test runs,
 * and for backfill runs unless the deadline is measured from `queuedAt` (a backfill of past dates
 * would otherwise miss every deadline the moment it is created).
 */
export function deadlineFor(
  serialized: Pick<SerializedDag, 'deadline'>,
  run: { runType: RunType; logicalDate: Date; dataIntervalEnd: Date; queuedAt: Date },
): Date | null {
  const deadline = serialized.deadline;
  if (!deadline || run.runType === 'test') return null;
  if (run.runType === 'backfill' && deadline.reference !== 'queuedAt') return null;
  const from = deadline.reference === 'logicalDate' ? run.logicalDate : deadline.reference === 'dataIntervalEnd' ? run.dataIntervalEnd : run.queuedAt;
  return new Date(from.getTime() + deadline.afterMs);
}

/**
 * Fire the deadline callbacks of runs still queued or running past their deadline. Each run is
 * claimed by one conditional update (`deadline_alerted_at` set) before its callback starts, so with
 * several schedulers a deadline fires exactly once; runs that finished in time are never picked.
 * The callbacks run in this process (they import the DAG file), without holding up the caller.
 * Returns how many deadlines fired.
 */
export async function fireMissedDeadlines(ctx: EngineContext): Promise<number> {
  const missed = await sql<{
    id: number; dag_id: string; run_id: string; run_type: RunType; state: 'queued' | 'running'; logical_date: Date;
    data_interval_start: Date; data_interval_end: Date; conf: Record<string, unknown>; deadline_at: Date; dag_version_id: number;
  }>`
    UPDATE tributary.dag_run SET deadline_alerted_at = now()
     WHERE id IN (SELECT id FROM tributary.dag_run
                   WHERE deadline_at <= now() AND deadline_alerted_at IS NULL AND state IN ('queued', 'running')
                   ORDER BY deadline_at LIMIT 100 FOR UPDATE SKIP LOCKED)
       AND deadline_alerted_at IS NULL
    RETURNING id, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, deadline_at, dag_version_id`.execute(ctx.db);
  for (const run of missed.rows) {
    const structure = await ctx.versions.get(run.dag_version_id);
    const deadline = structure.serialized.deadline;
    ctx.log.warn({ dagId: run.dag_id, runId: run.run_id, deadlineAt: run.deadline_at }, 'run missed its deadline');
    if (!deadline || !ctx.callbacks) continue;
    const callbacks = ctx.callbacks;
    callbacks.start(() =>
      callbacks.runDagCallbacks({
        ...callbackRunOf(structure.serialized.file, run),
        kind: 'deadline',
        state: run.state,
        deadline: { at: run.deadline_at, reference: deadline.reference, afterMs: deadline.afterMs },
      }),
    );
  }
  return missed.rows.length;
}
