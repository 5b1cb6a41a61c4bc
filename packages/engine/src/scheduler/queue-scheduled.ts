import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { TaskJobToSend } from '../queue/task-queue.js';
import type { EngineContext } from './context.js';

/** Most task instances moved to `queued` in one call. */
const MAX_BATCH = 10_000;

interface Candidate {
  id: number;
  dag_id: string;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  try_number: number;
  queue_override: string | null;
}

/**
 * Move `scheduled` task instances of the given DAGs to `queued`, highest priority first, as far as
 * their pools' open slots and their DAGs' `maxActiveTasks` allow, and send their jobs in the same
 * transaction. Slot accounting is serialized per DAG (advisory lock) and per pool (row lock), always
 * in that order, so limits hold with any number of schedulers and workers.
 * Returns how many task instances were queued.
 */
export async function queueScheduled(trx: Transaction<Database>, ctx: EngineContext, dagIds: readonly string[]): Promise<number> {
  if (dagIds.length === 0) return 0;
  const dags = [...new Set(dagIds)].sort();
  const waiting = await sql<{ dag_id: string }>`
    SELECT DISTINCT dag_id FROM tributary.task_instance WHERE state = 'scheduled' AND dag_id = ANY(${dags})
  `.execute(trx);
  if (waiting.rows.length === 0) return 0;
  const active = waiting.rows.map((r) => r.dag_id).sort();

  await sql`SELECT pg_advisory_xact_lock(hashtextextended('tributary.dag-slots:' || d, 0))
            FROM unnest(${active}::text[]) AS d ORDER BY d`.execute(trx);

  const limits = await sql<{ dag_id: string; max_active_tasks: number; is_paused: boolean; occupied: number }>`
    SELECT d.dag_id, d.max_active_tasks, d.is_paused,
           (SELECT count(*) FROM tributary.task_instance t
             WHERE t.dag_id = d.dag_id AND t.state IN ('queued', 'running'))::int AS occupied
      FROM tributary.dag d WHERE d.dag_id = ANY(${active})
  `.execute(trx);
  const dagRoom = new Map<string, number>();
  const paused: string[] = [];
  for (const row of limits.rows) {
    dagRoom.set(row.dag_id, Math.max(0, row.max_active_tasks - row.occupied));
    if (row.is_paused) paused.push(row.dag_id);
  }
  const limit = Math.min(MAX_BATCH, [...dagRoom.values()].reduce((a, b) => a + b, 0));
  if (limit === 0) return 0;

  const candidates = (
    await sql<Candidate>`
      SELECT t.id, t.dag_id, t.pool, t.pool_slots, t.priority_weight, t.queue, t.try_number, r.queue_override
        FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
       WHERE t.state = 'scheduled' AND t.dag_id = ANY(${[...dagRoom.keys()]}) AND r.state = 'running'
         -- A paused DAG starts no new tasks, except in runs of 'dags test'.
         AND (r.run_type = 'test' OR NOT (t.dag_id = ANY(${paused}::text[])))
       ORDER BY t.priority_weight DESC, r.logical_date, t.id
       LIMIT ${limit}
    `.execute(trx)
  ).rows;
  if (candidates.length === 0) return 0;

  const poolNames = [...new Set(candidates.map((c) => c.pool))].sort();
  const pools = await sql<{ name: string; slots: number; occupied: number }>`
    SELECT p.name, p.slots,
           coalesce((SELECT sum(t.pool_slots) FROM tributary.task_instance t
                      WHERE t.pool = p.name AND t.state IN ('queued', 'running')), 0)::int AS occupied
      FROM tributary.pool p WHERE p.name = ANY(${poolNames})
     ORDER BY p.name
       FOR UPDATE OF p
  `.execute(trx);
  const poolRoom = new Map<string, number>();
  for (const p of pools.rows) poolRoom.set(p.name, p.slots === -1 ? Number.POSITIVE_INFINITY : p.slots - p.occupied);
  const missingPools = poolNames.filter((name) => !poolRoom.has(name));
  if (missingPools.length > 0) {
    ctx.log.warn({ pools: missingPools }, 'task instances wait for pools that do not exist; create them to let the tasks run');
  }

  const chosen: Candidate[] = [];
  for (const c of candidates) {
    const inDag = dagRoom.get(c.dag_id) ?? 0;
    const inPool = poolRoom.get(c.pool);
    if (inDag <= 0 || inPool === undefined || inPool < c.pool_slots) continue;
    dagRoom.set(c.dag_id, inDag - 1);
    poolRoom.set(c.pool, inPool - c.pool_slots);
    chosen.push(c);
  }
  if (chosen.length === 0) return 0;

  const queued = await sql<{ id: number }>`
    UPDATE tributary.task_instance SET state = 'queued', queued_at = now(), updated_at = now()
     WHERE id = ANY(${chosen.map((c) => c.id)}::bigint[]) AND state = 'scheduled'
    RETURNING id
  `.execute(trx);
  const ids = new Set(queued.rows.map((r) => r.id));
  const jobs: TaskJobToSend[] = chosen
    .filter((c) => ids.has(c.id))
    .map((c) => ({ tiId: c.id, tryNumber: c.try_number, queue: c.queue_override ?? c.queue, priority: c.priority_weight }));
  await ctx.queue.sendInTransaction(trx, jobs);
  return jobs.length;
}
