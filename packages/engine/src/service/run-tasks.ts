import { sql, type Kysely } from 'kysely';
import type { Database, TaskState } from '../db/schema.js';

/** The task instances of one task in a run, summarized: one for an unmapped task, all of a mapped one. */
export interface RunTaskSummary {
  taskId: string;
  /** Task instances (more than one only for a mapped task). */
  count: number;
  /** Whether the task is mapped (its instances have map index ≥ 0). */
  mapped: boolean;
  /** How many instances are in each state (`none` for no state yet). */
  states: Partial<Record<TaskState | 'none', number>>;
  /** Highest try number among the instances. */
  tries: number;
  /** Earliest queued, earliest start and latest end among the instances. */
  queuedAt: Date | null;
  startDate: Date | null;
  endDate: Date | null;
}

/**
 * Every task of a run with its instances' states counted and their times spanned, in one aggregate
 * query (a mapped task with a thousand instances is one row).
 */
export async function summarizeRunTasks(db: Kysely<Database>, runPk: number): Promise<RunTaskSummary[]> {
  const rows = await sql<{
    task_id: string; n: number; mapped: boolean; states: Record<string, number>; tries: number;
    queued_at: Date | null; start_date: Date | null; end_date: Date | null;
  }>`
    SELECT task_id, sum(n)::int AS n, bool_or(mapped) AS mapped, jsonb_object_agg(coalesce(state, 'none'), n) AS states,
           max(tries)::int AS tries, min(queued_at) AS queued_at, min(start_date) AS start_date, max(end_date) AS end_date
      FROM (SELECT task_id, state, count(*) AS n, bool_or(map_index >= 0) AS mapped, max(try_number) AS tries,
                   min(queued_at) AS queued_at, min(start_date) AS start_date, max(end_date) AS end_date, min(id) AS first_id
              FROM tributary.task_instance WHERE run_pk = ${runPk}
             GROUP BY task_id, state) s
     GROUP BY task_id
     ORDER BY min(first_id)`.execute(db);
  return rows.rows.map((r) => ({
    taskId: r.task_id,
    count: r.n,
    mapped: r.mapped,
    states: r.states as RunTaskSummary['states'],
    tries: r.tries,
    queuedAt: r.queued_at,
    startDate: r.start_date,
    endDate: r.end_date,
  }));
}

/** One instance of a mapped task. */
export interface MappedInstanceSummary {
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  startDate: Date | null;
  endDate: Date | null;
}

/** The instances of a mapped task in a run, by map index (`limit` of them after `offset`). */
export async function listMappedInstances(
  db: Kysely<Database>,
  runPk: number,
  taskId: string,
  page: { limit?: number; offset?: number } = {},
): Promise<MappedInstanceSummary[]> {
  const rows = await db
    .selectFrom('tributary.task_instance')
    .select(['map_index', 'state', 'try_number', 'start_date', 'end_date'])
    .where('run_pk', '=', runPk)
    .where('task_id', '=', taskId)
    .where('map_index', '>=', 0)
    .orderBy('map_index')
    .limit(page.limit ?? 1024)
    .offset(page.offset ?? 0)
    .execute();
  return rows.map((r) => ({ mapIndex: r.map_index, state: r.state, tryNumber: r.try_number, startDate: r.start_date, endDate: r.end_date }));
}
