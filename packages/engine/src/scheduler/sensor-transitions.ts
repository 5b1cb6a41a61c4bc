import { sql } from 'kysely';
import type { EngineContext } from './context.js';
import type { LogLine } from './transition-batches.js';

/** Where a sensor stands: pokes of this try that ended in a reschedule, and how long ago its timeout began. */
export interface SensorProgress {
  /** Pokes of this try before the current claim (0 for a fresh try). */
  pokes: number;
  /**
   * Milliseconds since the first recorded poke of the first try (database clock): since the task was
   * created or last cleared, across retries; 0 when nothing was recorded yet.
   */
  elapsedMs: number;
}

/**
 * How far a rescheduled sensor has got, from `task_reschedule`. As in Airflow, the total timeout
 * counts from the first poke of the first try — the first try since the instance was created or
 * cleared (`max_tries - retries`) — whichever worker, restart or retry pokes next.
 */
export async function loadSensorProgress(
  ctx: EngineContext,
  ti: { id: number; tryNumber: number; maxTries: number },
  retries: number,
): Promise<SensorProgress> {
  const firstTry = Math.max(1, ti.maxTries - retries);
  const result = await sql<{ pokes: number; elapsed_ms: number | null }>`
    SELECT count(*) FILTER (WHERE try_number = ${ti.tryNumber})::int AS pokes,
           (extract(epoch FROM now() - min(start_date)) * 1000)::float8 AS elapsed_ms
      FROM tributary.task_reschedule WHERE ti_id = ${ti.id} AND try_number BETWEEN ${firstTry} AND ${ti.tryNumber}`.execute(ctx.db);
  const row = result.rows[0];
  return { pokes: row?.pokes ?? 0, elapsedMs: Math.max(0, row?.elapsed_ms ?? 0) };
}

/** A reschedule to record: when the poke began (ms before now) and when the next one is due. */
export interface RescheduleInput {
  /** Milliseconds between the start of the poke that ended and now. */
  pokeStartedMsAgo: number;
  /** When the next poke is due. */
  rescheduleAt: Date;
  /** The try's last log lines, written by the same statement. */
  logLines?: readonly LogLine[];
}

/**
 * End a sensor's poke without ending its try: the instance becomes `up_for_reschedule` until
 * `rescheduleAt` (its worker slot and pool slot are free meanwhile), its next claim continues the
 * same try (`resuming`), and the poke is recorded in `task_reschedule`. One statement, conditional
 * on the instance still running this try; returns false when it no longer is.
 */
export async function recordReschedule(ctx: EngineContext, ti: { id: number; tryNumber: number }, input: RescheduleInput): Promise<boolean> {
  const lines = input.logLines ?? [];
  const result = await sql<{ id: number }>`
    WITH done AS (
      UPDATE tributary.task_instance
         SET state = 'up_for_reschedule', resuming = true, end_date = now(), next_retry_at = ${input.rescheduleAt}, updated_at = now()
       WHERE id = ${ti.id} AND state = 'running' AND try_number = ${ti.tryNumber}
      RETURNING id, end_date
    ), tried AS (
      UPDATE tributary.task_try t SET state = 'up_for_reschedule', end_date = d.end_date,
             duration_ms = (extract(epoch FROM d.end_date - t.start_date) * 1000)::int
        FROM done d WHERE t.ti_id = d.id AND t.try_number = ${ti.tryNumber}
    ), ledger AS (
      INSERT INTO tributary.task_reschedule (ti_id, try_number, start_date, end_date, reschedule_date)
      SELECT id, ${ti.tryNumber}, end_date - make_interval(secs => ${input.pokeStartedMsAgo / 1000}), end_date, ${input.rescheduleAt}
        FROM done
    ), logged AS (
      INSERT INTO tributary.task_log (ti_id, try_number, logged_at, level, message)
      SELECT ${ti.id}, ${ti.tryNumber}, u.at, u.level, u.message FROM done,
             unnest(${lines.map((l) => l.at)}::timestamptz[], ${lines.map((l) => l.level)}::text[], ${lines.map((l) => l.message)}::text[])
               AS u(at, level, message)
    )
    SELECT id FROM done`.execute(ctx.db);
  return result.rows.length > 0;
}
