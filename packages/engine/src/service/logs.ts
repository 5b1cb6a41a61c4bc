import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';

/** One log line of a try. */
export interface TaskLogLine {
  id: number;
  tryNumber: number;
  at: Date;
  level: string;
  message: string;
}

/** Which task instance's logs to read. */
export interface TaskLogQuery {
  dagId: string;
  runId: string;
  taskId: string;
  /** @defaultValue -1 */
  mapIndex?: number;
  /** One try; every try when left out. */
  tryNumber?: number;
  /** Only lines after this id (for tailing). */
  afterId?: number;
  /** @defaultValue 10000 */
  limit?: number;
}

/** Log lines of a task instance, oldest first. Throws `NotFoundError` for an unknown run or task. */
export async function getTaskLogs(db: Kysely<Database>, query: TaskLogQuery): Promise<TaskLogLine[]> {
  const ti = await sql<{ id: number }>`
    SELECT t.id FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
     WHERE r.dag_id = ${query.dagId} AND r.run_id = ${query.runId} AND t.task_id = ${query.taskId}
       AND t.map_index = ${query.mapIndex ?? -1}`.execute(db);
  const id = ti.rows[0]?.id;
  if (id === undefined) {
    throw new NotFoundError(`task '${query.taskId}' in run '${query.runId}' of DAG '${query.dagId}'`, { dagId: query.dagId, taskId: query.taskId });
  }
  const rows = await sql<{ id: number; try_number: number; logged_at: Date; level: string; message: string }>`
    SELECT id, try_number, logged_at, level, message FROM tributary.task_log
     WHERE ti_id = ${id}
       ${query.tryNumber === undefined ? sql`` : sql`AND try_number = ${query.tryNumber}`}
       AND id > ${query.afterId ?? 0}
     ORDER BY try_number, id LIMIT ${query.limit ?? 10_000}`.execute(db);
  return rows.rows.map((r) => ({ id: r.id, tryNumber: r.try_number, at: r.logged_at, level: r.level, message: r.message }));
}
