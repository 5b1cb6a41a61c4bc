import { sql, type Transaction } from 'kysely';
import type { BackfillRunOutcome, Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { backfillAction, type BackfillReprocess, type ExistingRunState } from '../schedule/backfill.js';
import type { EngineContext } from '../scheduler/context.js';
import { createRunInTransaction, startQueuedRuns } from '../scheduler/run-lifecycle.js';
import { clearInTransaction } from './actions.js';
import type { Actor } from './audit.js';

/** Who backfills act as in the audit log. */
const BACKFILL_ACTOR: Actor = { name: 'backfill', origin: 'scheduler' };

/** Pending intervals looked at per step (those left alone do not take a run slot). */
const PENDING_BATCH = 200;

interface BackfillToAdvance {
  id: number;
  dag_id: string;
  reprocess: BackfillReprocess;
  max_active_runs: number;
  conf: Record<string, unknown>;
}

/**
 * One step of every running backfill, run by the scheduler loop: while a backfill has fewer than its
 * `maxActiveRuns` runs queued or running, take its next pending intervals in order and create a run
 * (type `backfill`), clear the existing run (per its reprocess mode), or leave it (`exists`,
 * `in_flight`) — deciding on the runs as they are now, not as planned. A backfill with nothing
 * pending and no active run is completed. Each backfill is stepped under a row lock (skipped when
 * another scheduler holds it), in one transaction with the runs it creates, so a logical date is
 * never run twice. Returns how many runs were created or cleared.
 */
export async function advanceBackfills(ctx: EngineContext): Promise<number> {
  const running = await ctx.db.selectFrom('tributary.backfill').select('id').where('state', '=', 'running').orderBy('id').execute();
  let started = 0;
  for (const { id } of running) {
    try {
      const step = await withTransaction(ctx.db, (trx) => stepBackfill(trx, ctx, id));
      if (step.dagId !== null && step.started > 0) await startQueuedRuns(ctx, step.dagId);
      started += step.started;
    } catch (error) {
      ctx.log.error({ err: error, backfillId: id }, 'advancing a backfill failed; retrying next pass');
    }
  }
  return started;
}

async function stepBackfill(trx: Transaction<Database>, ctx: EngineContext, id: number): Promise<{ dagId: string | null; started: number }> {
  const locked = await sql<BackfillToAdvance>`
    SELECT id, dag_id, reprocess, max_active_runs, conf FROM tributary.backfill
     WHERE id = ${id} AND state = 'running' FOR UPDATE SKIP LOCKED`.execute(trx);
  const backfill = locked.rows[0];
  if (!backfill) return { dagId: null, started: 0 };
  const active = await activeRuns(trx, id);
  let room = backfill.max_active_runs - active;
  let started = 0;
  while (room > 0) {
    const pending = await trx
      .selectFrom('tributary.backfill_run')
      .select(['sort_ordinal', 'logical_date', 'data_interval_start', 'data_interval_end'])
      .where('backfill_id', '=', id)
      .where('outcome', '=', 'pending')
      .orderBy('sort_ordinal')
      .limit(PENDING_BATCH)
      .execute();
    if (pending.length === 0) break;
    for (const interval of pending) {
      if (room <= 0) break;
      const outcome = await handleInterval(trx, ctx, backfill, interval);
      await trx
        .updateTable('tributary.backfill_run')
        .set({ outcome: outcome.outcome, run_pk: outcome.runPk })
        .where('backfill_id', '=', id)
        .where('sort_ordinal', '=', interval.sort_ordinal)
        .execute();
      if (outcome.outcome === 'created' || outcome.outcome === 'cleared') {
        room--;
        started++;
      }
    }
  }
  const left = await trx.selectFrom('tributary.backfill_run').select('sort_ordinal').where('backfill_id', '=', id).where('outcome', '=', 'pending').limit(1).execute();
  if (left.length === 0 && (await activeRuns(trx, id)) === 0) {
    await trx.updateTable('tributary.backfill').set({ state: 'completed', completed_at: new Date() }).where('id', '=', id).execute();
    ctx.log.info({ backfillId: id, dagId: backfill.dag_id }, 'backfill completed');
  }
  return { dagId: backfill.dag_id, started };
}

async function activeRuns(trx: Transaction<Database>, backfillId: number): Promise<number> {
  const result = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM tributary.dag_run WHERE backfill_id = ${backfillId} AND state IN ('queued', 'running')`.execute(trx);
  return result.rows[0]?.n ?? 0;
}

async function handleInterval(
  trx: Transaction<Database>,
  ctx: EngineContext,
  backfill: BackfillToAdvance,
  interval: { logical_date: Date; data_interval_start: Date; data_interval_end: Date },
): Promise<{ outcome: BackfillRunOutcome; runPk: number | null }> {
  const existing = await sql<{ id: number; run_id: string; state: Exclude<ExistingRunState, null>; dag_id: string; dag_version_id: number }>`
    SELECT id, run_id, state, dag_id, dag_version_id FROM tributary.dag_run
     WHERE dag_id = ${backfill.dag_id} AND logical_date = ${interval.logical_date} AND run_type <> 'test'
       FOR UPDATE`.execute(trx);
  const run = existing.rows[0];
  switch (backfillAction(run?.state ?? null, backfill.reprocess)) {
    case 'create': {
      const created = await createRunInTransaction(trx, ctx, {
        dagId: backfill.dag_id,
        runType: 'backfill',
        logicalDate: interval.logical_date,
        dataInterval: { start: interval.data_interval_start, end: interval.data_interval_end },
        params: backfill.conf,
        backfillId: backfill.id,
        triggeredBy: 'backfill',
      });
      return { outcome: 'created', runPk: created.id };
    }
    case 'clear': {
      // The run keeps its type; it now belongs to the backfill (and its run limit).
      await trx.updateTable('tributary.dag_run').set({ backfill_id: backfill.id }).where('id', '=', run!.id).execute();
      const structure = await ctx.versions.get(run!.dag_version_id, trx);
      await clearInTransaction(trx, run!, structure, [...structure.tasks.keys()], {}, BACKFILL_ACTOR);
      return { outcome: 'cleared', runPk: run!.id };
    }
    case 'exists':
      return { outcome: 'exists', runPk: run!.id };
    case 'in_flight':
      return { outcome: 'in_flight', runPk: run!.id };
  }
}
