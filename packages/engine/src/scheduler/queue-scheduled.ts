import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { TaskJobToSend } from '../queue/task-queue.js';
import type { EngineContext } from './context.js';

/** Most task instances moved to `queued` in one call. */
const MAX_BATCH = 10_000;

/** A row of the slot read: a DAG's room, a pool's slots, or a candidate task instance. */
interface SlotRow {
  kind: 'dag' | 'pool' | 'ti';
  /** DAG id (dag, ti) or pool name (pool). */
  name: string;
  pool: string | null;
  queue: string | null;
  /** dag: open room under maxActiveTasks; pool: slots (-1 unlimited); ti: instance id. */
  a: number;
  /** pool: slots occupied; ti: pool slots it takes. */
  b: number | null;
  /** ti: priority weight. */
  c: number | null;
  /** ti: try number. */
  d: number | null;
  /** ti: the run's DAG version. */
  e: number | null;
  /** ti: task id. */
  task_id: string | null;
}

/**
 * Move `scheduled` task instances to `queued` — those of the given DAGs, and of any DAG with
 * instances waiting in the given pools (a slot freed there may let them start) — highest priority
 * first, as far as their pools' open slots and their DAGs' `maxActiveTasks` allow, and send their
 * jobs in the same transaction. Slot accounting is serialized per DAG (advisory lock) and per pool
 * (row lock), always taken in that order and each in a statement of its own (so the counts read
 * after them include everything committed by whoever held them before), so limits hold with any
 * number of schedulers and workers. Returns how many task instances were queued.
 */
export async function queueScheduled(
  trx: Transaction<Database>,
  ctx: EngineContext,
  dagIds: readonly string[],
  pools: readonly string[] = [],
): Promise<number> {
  if (dagIds.length === 0 && pools.length === 0) return 0;
  // The DAGs with waiting instances, locked in name order (a volatile function in the target list
  // runs after ORDER BY).
  const locked = await sql<{ dag_id: string }>`
    SELECT w.dag_id, pg_advisory_xact_lock(hashtextextended('tributary.dag-slots:' || w.dag_id, 0))
      FROM (SELECT dag_id FROM tributary.task_instance WHERE state = 'scheduled' AND dag_id = ANY(${[...new Set(dagIds)]}::text[])
            UNION
            SELECT dag_id FROM tributary.task_instance WHERE state = 'scheduled' AND pool = ANY(${[...new Set(pools)]}::text[])) w
     ORDER BY w.dag_id`.execute(trx);
  if (locked.rows.length === 0) return 0;
  const active = locked.rows.map((r) => r.dag_id);
  await sql`
    SELECT name FROM tributary.pool
     WHERE name IN (SELECT DISTINCT pool FROM tributary.task_instance WHERE state = 'scheduled' AND dag_id = ANY(${active}::text[]))
     ORDER BY name FOR UPDATE`.execute(trx);

  const rows = await sql<SlotRow>`
    WITH limits AS (
      SELECT d.dag_id, d.is_paused,
             greatest(0, d.max_active_tasks - (SELECT count(*) FROM tributary.task_instance t
                                                 WHERE t.dag_id = d.dag_id AND t.state IN ('queued', 'running')))::int AS room
        FROM tributary.dag d WHERE d.dag_id = ANY(${active}::text[])
    ), candidates AS (
      SELECT t.id, t.dag_id, t.task_id, t.pool, t.pool_slots, t.priority_weight, t.try_number, r.dag_version_id,
             coalesce(r.queue_override, t.queue) AS queue
        FROM tributary.task_instance t
        JOIN tributary.dag_run r ON r.id = t.run_pk
        JOIN limits l ON l.dag_id = t.dag_id
       WHERE t.state = 'scheduled' AND t.dag_id = ANY(${active}::text[]) AND r.state = 'running' AND l.room > 0
         -- A paused DAG starts no new tasks, except in runs of 'dags test'.
         AND (r.run_type = 'test' OR NOT l.is_paused)
       ORDER BY t.priority_weight DESC, r.logical_date, t.id
       LIMIT least(${MAX_BATCH}, (SELECT coalesce(sum(room), 0) FROM limits))
    )
    SELECT 'dag' AS kind, dag_id AS name, NULL AS pool, NULL AS queue, room AS a, NULL::int AS b, NULL::int AS c, NULL::int AS d,
           NULL::bigint AS e, NULL AS task_id FROM limits
    UNION ALL
    SELECT 'pool', p.name, NULL, NULL, p.slots,
           coalesce((SELECT sum(t.pool_slots) FROM tributary.task_instance t
                      WHERE t.pool = p.name AND t.state IN ('queued', 'running')), 0)::int, NULL, NULL, NULL, NULL
      FROM tributary.pool p WHERE p.name IN (SELECT pool FROM candidates)
    UNION ALL
    SELECT 'ti', dag_id, pool, queue, id, pool_slots, priority_weight, try_number, dag_version_id, task_id FROM candidates`.execute(trx);

  const dagRoom = new Map<string, number>();
  const poolRoom = new Map<string, number>();
  const candidates: SlotRow[] = [];
  for (const row of rows.rows) {
    if (row.kind === 'dag') dagRoom.set(row.name, row.a);
    else if (row.kind === 'pool') poolRoom.set(row.name, row.a === -1 ? Number.POSITIVE_INFINITY : row.a - row.b!);
    else candidates.push(row);
  }
  if (candidates.length === 0) return 0;
  const missingPools = [...new Set(candidates.map((c) => c.pool!))].filter((name) => !poolRoom.has(name));
  if (missingPools.length > 0) {
    ctx.log.warn({ pools: missingPools }, 'task instances wait for pools that do not exist; create them to let the tasks run');
  }

  // Rows arrive in priority order (UNION ALL keeps each branch's order here, but sort to be sure).
  candidates.sort((x, y) => y.c! - x.c!);
  const chosen: SlotRow[] = [];
  for (const c of candidates) {
    const inDag = dagRoom.get(c.name) ?? 0;
    const inPool = poolRoom.get(c.pool!);
    if (inDag <= 0 || inPool === undefined || inPool < c.b!) continue;
    dagRoom.set(c.name, inDag - 1);
    poolRoom.set(c.pool!, inPool - c.b!);
    chosen.push(c);
  }
  if (chosen.length === 0) return 0;

  const queued = await sql<{ id: number }>`
    UPDATE tributary.task_instance SET state = 'queued', queued_at = now(), updated_at = now()
     WHERE id = ANY(${chosen.map((c) => c.a)}::bigint[]) AND state = 'scheduled'
    RETURNING id`.execute(trx);
  const ids = new Set(queued.rows.map((r) => Number(r.id)));
  const jobs: TaskJobToSend[] = chosen
    .filter((c) => ids.has(c.a))
    .map((c) => ({ tiId: c.a, tryNumber: c.d!, queue: c.queue!, priority: c.c!, dagVersionId: c.e!, taskId: c.task_id! }));
  await ctx.queue.sendInTransaction(trx, jobs);
  return jobs.length;
}
