import { sql, type Kysely } from 'kysely';
import type { RunType } from '../dag/types.js';
import type { Database, RunState, TaskState } from '../db/schema.js';

/** A run as a column of the grid. */
export interface GridRun {
  pk: number;
  runId: string;
  runType: RunType;
  state: RunState;
  logicalDate: Date;
  queuedAt: Date | null;
  startDate: Date | null;
  endDate: Date | null;
  /** The DAG version the run was created from. */
  versionId: number;
}

/**
 * Task instances of one task in one run that share a state (`getGrid` gives one per instance;
 * the grid adds them up per task and run).
 */
export interface GridCellRow {
  runPk: number;
  taskId: string;
  state: TaskState | null;
  /** Task instances in this state (more than one only for a mapped task). */
  count: number;
  /** Highest try number among them (above 1 means it was retried or cleared). */
  tries: number;
  /** Whether these are instances of a mapped task (map index ≥ 0). */
  mapped: boolean;
}

/** Which runs a grid shows. */
export interface GridQuery {
  /** Runs per page. @defaultValue 25 */
  limit?: number;
  /** Runs to skip, newest first. @defaultValue 0 */
  offset?: number;
  /** Only runs in this state. */
  state?: RunState;
  /** Only runs of this type. */
  runType?: RunType;
}

/** The runs of a grid page (oldest first, as the columns read) and the cells of those runs. */
export interface GridData {
  runs: GridRun[];
  cells: GridCellRow[];
  /** Whether older runs exist beyond this page. */
  hasOlder: boolean;
}

/**
 * The grid of a DAG: its latest runs by logical date (`limit` of them after `offset`) and, in one
 * aggregate query over those runs, the state and try of every task instance in them — one row per
 * task, so a page of 50 runs × 500 tasks is one index scan and 500 rows.
 */
export async function getGrid(db: Kysely<Database>, dagId: string, query: GridQuery = {}): Promise<GridData> {
  const limit = query.limit ?? 25;
  const runs = await sql<{
    id: number; run_id: string; run_type: RunType; state: RunState; logical_date: Date; queued_at: Date | null;
    start_date: Date | null; end_date: Date | null; dag_version_id: number;
  }>`
    SELECT id, run_id, run_type, state, logical_date, queued_at, start_date, end_date, dag_version_id
      FROM tributary.dag_run
     WHERE dag_id = ${dagId}
       ${query.state === undefined ? sql`` : sql`AND state = ${query.state}`}
       ${query.runType === undefined ? sql`` : sql`AND run_type = ${query.runType}`}
     ORDER BY logical_date DESC, id DESC
     LIMIT ${limit + 1} OFFSET ${query.offset ?? 0}`.execute(db);
  const page = runs.rows.slice(0, limit).reverse();
  const pks = page.map((r) => r.id);
  // One row per task with its instances packed in a string ("runPk state tryNumber mapIndex",
  // comma separated): 500 rows to send and parse instead of 25,000 for 50 runs × 500 tasks, and a
  // single aggregation (measured 2-3× faster than grouping by run, task and state first).
  const cells: GridCellRow[] = [];
  if (pks.length > 0) {
    const rows = await sql<{ task_id: string; cells: string }>`
      SELECT task_id, string_agg(run_pk || ' ' || coalesce(state, '-') || ' ' || try_number || ' ' || map_index, ',') AS cells
        FROM tributary.task_instance
       WHERE run_pk = ANY(${pks}::bigint[])
       GROUP BY task_id`.execute(db);
    for (const row of rows.rows) {
      for (const packed of row.cells.split(',')) {
        const [runPk, state, tries, mapIndex] = packed.split(' ') as [string, string, string, string];
        cells.push({ runPk: Number(runPk), taskId: row.task_id, state: state === '-' ? null : (state as TaskState), count: 1, tries: Number(tries), mapped: mapIndex !== '-1' });
      }
    }
  }
  return {
    runs: page.map((r) => ({
      pk: r.id,
      runId: r.run_id,
      runType: r.run_type,
      state: r.state,
      logicalDate: r.logical_date,
      queuedAt: r.queued_at,
      startDate: r.start_date,
      endDate: r.end_date,
      versionId: r.dag_version_id,
    })),
    cells,
    hasOlder: runs.rows.length > limit,
  };
}
