import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { TaskJobToSend } from '../queue/task-queue.js';
import type { EngineContext } from './context.js';
import { TaskLimits } from './task-limits.js';
import { executePrepared } from '../db/prepared.js';

/** Most task instances moved to `queued` in one call. */
const MAX_BATCH = 10_000;
/**
 * Most candidate reads in one call: more are made only when the best candidates were held back by a
 * full pool or a per-task limit while the DAGs still had room (so such a task cannot starve the rest).
 */
const MAX_ROUNDS = 4;

interface Candidate {
  id: number;
  run_pk: number;
  dag_id: string;
  task_id: string;
  dag_version_id: number;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  try_number: number;
  queue_override: string | null;
}

/** What is left of each limit while instances are picked. */
interface Room {
  dags: Map<string, number>;
  paused: string[];
  /** Free slots per pool (Infinity when unlimited) and its size. */
  pools: Map<string, { free: number; slots: number }>;
}

/**
 * Lock the slot accounting of DAGs and pools: one advisory lock each, taken by every process in one
 * sorted order (DAGs before pools), so any number of schedulers and workers queue within the limits
 * and never deadlock each other. The counts are read by a later statement: a statement that waits
 * for a lock still reads from the snapshot it took before waiting.
 */
async function lockSlots(trx: Transaction<Database>, dags: readonly string[], pools: readonly string[]): Promise<void> {
  const keys = [...dags.map((d) => `tributary.dag-slots:${d}`), ...pools.map((p) => `tributary.pool-slots:${p}`)].sort();
  await executePrepared(trx, sql`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(${keys}::text[]) AS k ORDER BY k`);
}

async function readRoom(trx: Transaction<Database>, dags: readonly string[], pools: readonly string[]): Promise<Room> {
  const rows = await executePrepared(trx, sql<{ kind: 'dag' | 'pool'; name: string; size: number; occupied: number; paused: boolean }>`
    SELECT 'dag' AS kind, d.dag_id AS name, d.max_active_tasks AS size, d.is_paused AS paused,
           (SELECT count(*) FROM tributary.task_instance t
             WHERE t.dag_id = d.dag_id AND t.state IN ('queued', 'running'))::int AS occupied
      FROM tributary.dag d WHERE d.dag_id = ANY(${dags})
    UNION ALL
    SELECT 'pool', p.name, p.slots, false,
           coalesce((SELECT sum(t.pool_slots) FROM tributary.task_instance t
                      WHERE t.pool = p.name AND t.state IN ('queued', 'running')), 0)::int
      FROM tributary.pool p WHERE p.name = ANY(${pools})`);
  const room: Room = { dags: new Map(), paused: [], pools: new Map() };
  for (const row of rows.rows) {
    if (row.kind === 'dag') {
      room.dags.set(row.name, Math.max(0, row.size - row.occupied));
      if (row.paused) room.paused.push(row.name);
    } else {
      room.pools.set(row.name, { free: row.size === -1 ? Number.POSITIVE_INFINITY : row.size - row.occupied, slots: row.size });
    }
  }
  return room;
}

/**
 * Move `scheduled` task instances of the given DAGs — and of any DAG with instances waiting in the
 * given pools (a slot freed there may let them start) — to `queued`, highest priority first, as far as
 * their pools' free slots (a task takes `poolSlots`), their DAGs' `maxActiveTasks` and their tasks'
 * `maxActiveInstances` / `maxActiveInstancesPerRun` allow, and send their jobs in the same
 * transaction. An instance that does not fit is passed over for lower-priority ones that do (as in
 * Airflow). Slot accounting is serialized per DAG and per pool ({@link lockSlots}), so limits hold
 * with any number of schedulers and workers. Returns how many task instances were queued.
 */
export async function queueScheduled(
  trx: Transaction<Database>,
  ctx: EngineContext,
  dagIds: readonly string[],
  pools: readonly string[] = [],
): Promise<number> {
  if (dagIds.length === 0 && pools.length === 0) return 0;
  // Two indexable tests, not one with OR (which scans every task instance).
  const waiting = await executePrepared(trx, sql<{ dag_id: string; pool: string }>`
    SELECT dag_id, pool FROM tributary.task_instance WHERE state = 'scheduled' AND dag_id = ANY(${[...new Set(dagIds)]}::text[])
    UNION
    SELECT dag_id, pool FROM tributary.task_instance WHERE state = 'scheduled' AND pool = ANY(${[...new Set(pools)]}::text[])
  `);
  if (waiting.rows.length === 0) return 0;
  const dags = [...new Set(waiting.rows.map((r) => r.dag_id))].sort();
  // Only pools locked here are used; instances of another pool scheduled since wait for the next call.
  const poolNames = [...new Set(waiting.rows.map((r) => r.pool))].sort();
  await lockSlots(trx, dags, poolNames);
  const room = await readRoom(trx, dags, poolNames);
  const missingPools = poolNames.filter((name) => !room.pools.has(name));
  if (missingPools.length > 0) {
    ctx.log.warn({ pools: missingPools }, 'task instances wait for pools that do not exist; create them to let the tasks run');
  }

  let budget = Math.min(MAX_BATCH, [...room.dags.values()].reduce((a, b) => a + b, 0));
  const limits = new TaskLimits(trx, ctx);
  const chosen: Candidate[] = [];
  const considered: number[] = [];
  const oversized = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS && budget > 0; round++) {
    const openDags = [...room.dags].filter(([, n]) => n > 0).map(([d]) => d);
    const openPools = [...room.pools].filter(([, p]) => p.free > 0).map(([p]) => p);
    if (openDags.length === 0 || openPools.length === 0) break;
    const requested = budget;
    const candidates = (
      await executePrepared(trx, sql<Candidate>`
        SELECT t.id, t.run_pk, t.dag_id, t.task_id, r.dag_version_id, t.pool, t.pool_slots, t.priority_weight, t.queue,
               t.try_number, r.queue_override
          FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
         WHERE t.state = 'scheduled' AND t.dag_id = ANY(${openDags}) AND t.pool = ANY(${openPools}) AND r.state = 'running'
           -- A paused DAG starts no new tasks, except in runs of 'dags test'.
           AND (r.run_type = 'test' OR NOT (t.dag_id = ANY(${room.paused}::text[])))
           AND NOT (t.id = ANY(${considered}::bigint[]))
           AND NOT (t.dag_id || ' ' || t.task_id = ANY(${[...limits.heldTasks]}::text[]))
           AND NOT (t.run_pk::text || ' ' || t.task_id = ANY(${[...limits.heldRunTasks]}::text[]))
         ORDER BY t.priority_weight DESC, r.logical_date, t.id
         LIMIT ${requested}
      `)
    ).rows;
    const taskLimits = await limits.load(candidates);
    candidates.forEach((c, i) => {
      considered.push(c.id);
      const inDag = room.dags.get(c.dag_id) ?? 0;
      const pool = room.pools.get(c.pool)!;
      if (c.pool_slots > pool.slots && pool.slots !== -1) oversized.add(`${c.dag_id}.${c.task_id} (${c.pool_slots} > ${pool.slots} in ${c.pool})`);
      if (inDag <= 0 || pool.free < c.pool_slots || !limits.admit(c, taskLimits[i]!)) return;
      room.dags.set(c.dag_id, inDag - 1);
      pool.free -= c.pool_slots;
      chosen.push(c);
      budget--;
    });
    if (candidates.length < requested) break; // no more waiting instances than these
  }
  if (oversized.size > 0) {
    ctx.log.warn({ tasks: [...oversized] }, 'task instances need more slots than their pool has; they cannot run until the pool grows');
  }
  if (chosen.length === 0) return 0;

  const queued = await executePrepared(trx, sql<{ id: number }>`
    UPDATE tributary.task_instance SET state = 'queued', queued_at = now(), updated_at = now()
     WHERE id = ANY(${chosen.map((c) => c.id)}::bigint[]) AND state = 'scheduled'
    RETURNING id
  `);
  const ids = new Set(queued.rows.map((r) => Number(r.id)));
  const jobs: TaskJobToSend[] = chosen
    .filter((c) => ids.has(c.id))
    .map((c) => ({
      tiId: c.id,
      tryNumber: c.try_number,
      queue: c.queue_override ?? c.queue,
      priority: c.priority_weight,
      dagVersionId: c.dag_version_id,
      taskId: c.task_id,
    }));
  await ctx.queue.sendInTransaction(trx, jobs);
  return jobs.length;
}
