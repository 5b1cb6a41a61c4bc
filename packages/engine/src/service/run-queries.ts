import { sql, type Kysely } from 'kysely';
import type { RunType } from '../dag/types.js';
import type { Database, RunState, TaskState } from '../db/schema.js';
import type { ErrorInfo } from '../errors.js';
import { NotFoundError } from '../errors.js';
import type { XcomObjectRef, XcomStore } from '../storage/xcom-store.js';

/** A run as listed by the REST API and the pages. */
export interface RunSummary {
  dagId: string;
  runId: string;
  runType: RunType;
  state: RunState;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  conf: Record<string, unknown>;
  triggeredBy: string | null;
  note: string | null;
  versionNumber: number;
  createdAt: Date;
  queuedAt: Date | null;
  startDate: Date | null;
  endDate: Date | null;
}

/** Filters and paging of {@link listRuns}. */
export interface RunQuery {
  dagId?: string;
  state?: RunState;
  runType?: RunType;
  /** @defaultValue 100 */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
}

interface RunRow {
  dag_id: string; run_id: string; run_type: RunType; state: RunState; logical_date: Date; data_interval_start: Date;
  data_interval_end: Date; conf: Record<string, unknown>; triggered_by: string | null; note: string | null;
  version_number: number; created_at: Date; queued_at: Date | null; start_date: Date | null; end_date: Date | null;
}

function toRun(r: RunRow): RunSummary {
  return {
    dagId: r.dag_id, runId: r.run_id, runType: r.run_type, state: r.state, logicalDate: r.logical_date,
    dataIntervalStart: r.data_interval_start, dataIntervalEnd: r.data_interval_end, conf: r.conf, triggeredBy: r.triggered_by,
    note: r.note, versionNumber: r.version_number, createdAt: r.created_at, queuedAt: r.queued_at, startDate: r.start_date, endDate: r.end_date,
  };
}

const RUN_COLUMNS = sql`r.dag_id, r.run_id, r.run_type, r.state, r.logical_date, r.data_interval_start, r.data_interval_end, r.conf,
       r.triggered_by, r.note, v.version_number, r.created_at, r.queued_at, r.start_date, r.end_date`;

/** One page of runs, newest first, with the total that match (counted apart: the page itself reads only its rows). */
export async function listRuns(db: Kysely<Database>, query: RunQuery = {}): Promise<{ runs: RunSummary[]; total: number }> {
  const where = sql`true
       ${query.dagId === undefined ? sql`` : sql`AND r.dag_id = ${query.dagId}`}
       ${query.state === undefined ? sql`` : sql`AND r.state = ${query.state}`}
       ${query.runType === undefined ? sql`` : sql`AND r.run_type = ${query.runType}`}`;
  const [rows, count] = await Promise.all([
    sql<RunRow>`
      SELECT ${RUN_COLUMNS}
        FROM tributary.dag_run r JOIN tributary.dag_version v ON v.id = r.dag_version_id
       WHERE ${where}
       ORDER BY r.id DESC
       LIMIT ${query.limit ?? 100} OFFSET ${query.offset ?? 0}`.execute(db),
    sql<{ n: string }>`SELECT count(*) AS n FROM tributary.dag_run r WHERE ${where}`.execute(db),
  ]);
  return { runs: rows.rows.map(toRun), total: Number(count.rows[0]?.n ?? 0) };
}

/** One run; `NotFoundError` when unknown. */
export async function getRunSummary(db: Kysely<Database>, dagId: string, runId: string): Promise<RunSummary & { pk: number }> {
  const rows = await sql<RunRow & { id: number }>`
    SELECT r.id, ${RUN_COLUMNS}
      FROM tributary.dag_run r JOIN tributary.dag_version v ON v.id = r.dag_version_id
     WHERE r.dag_id = ${dagId} AND r.run_id = ${runId}`.execute(db);
  const row = rows.rows[0];
  if (!row) throw new NotFoundError(`run '${runId}' of DAG '${dagId}'`, { dagId });
  return { ...toRun(row), pk: row.id };
}

/** Which task instance. */
export interface TaskInstanceRef {
  dagId: string;
  runId: string;
  taskId: string;
  /** @defaultValue -1 */
  mapIndex?: number;
}

/** Everything known about one task instance. */
export interface TaskInstanceDetail {
  id: number;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  maxTries: number;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  queue: string;
  operator: string | null;
  executor: string | null;
  hostname: string | null;
  workerId: string | null;
  pid: number | null;
  queuedAt: Date | null;
  startDate: Date | null;
  endDate: Date | null;
  heartbeatAt: Date | null;
  nextRetryAt: Date | null;
  renderedArgs: unknown;
  externalId: string | null;
}

/** One task instance; `NotFoundError` naming the run and task when unknown. */
export async function getTaskInstance(db: Kysely<Database>, ref: TaskInstanceRef): Promise<TaskInstanceDetail> {
  const row = await db
    .selectFrom('tributary.task_instance as t')
    .innerJoin('tributary.dag_run as r', 'r.id', 't.run_pk')
    .selectAll('t')
    .select('r.run_id')
    .where('r.dag_id', '=', ref.dagId)
    .where('r.run_id', '=', ref.runId)
    .where('t.task_id', '=', ref.taskId)
    .where('t.map_index', '=', ref.mapIndex ?? -1)
    .executeTakeFirst();
  if (!row) {
    await getRunSummary(db, ref.dagId, ref.runId); // names the run when it is the run that is unknown
    throw new NotFoundError(`task '${ref.taskId}'${(ref.mapIndex ?? -1) >= 0 ? `[${ref.mapIndex}]` : ''} in run '${ref.runId}' of DAG '${ref.dagId}'`, { dagId: ref.dagId, taskId: ref.taskId });
  }
  return {
    id: row.id, dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, mapIndex: row.map_index, state: row.state,
    tryNumber: row.try_number, maxTries: row.max_tries, pool: row.pool, poolSlots: row.pool_slots, priorityWeight: row.priority_weight,
    queue: row.queue, operator: row.operator, executor: row.executor, hostname: row.hostname, workerId: row.worker_id, pid: row.pid,
    queuedAt: row.queued_at, startDate: row.start_date, endDate: row.end_date, heartbeatAt: row.heartbeat_at, nextRetryAt: row.next_retry_at,
    renderedArgs: row.rendered_args, externalId: row.external_id,
  };
}

/** One try of a task instance. */
export interface TaskTrySummary {
  tryNumber: number;
  state: TaskState;
  hostname: string | null;
  workerId: string | null;
  startDate: Date;
  endDate: Date | null;
  durationMs: number | null;
  error: ErrorInfo | null;
}

/** Every try of a task instance, first first. */
export async function listTaskTries(db: Kysely<Database>, ref: TaskInstanceRef): Promise<TaskTrySummary[]> {
  const ti = await getTaskInstance(db, ref);
  const rows = await db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', ti.id).orderBy('try_number').execute();
  return rows.map((r) => ({
    tryNumber: r.try_number, state: r.state, hostname: r.hostname, workerId: r.worker_id, startDate: r.start_date,
    endDate: r.end_date, durationMs: r.duration_ms, error: r.error,
  }));
}

/** An XCom entry: a task's result (`return_value`) or another key it pushed. */
export interface XcomEntry {
  key: string;
  /** The value; for an offloaded one not read back, null (see `storedAt`). */
  value: unknown;
  /** Size of the value's JSON in bytes. */
  sizeBytes: number;
  createdAt: Date;
  /** Where an offloaded value is in the object store; null when the value is in the database. */
  storedAt: { bucket: string; key: string } | null;
}

/**
 * The XCom entries of a task instance. An offloaded value is read back from the object store when
 * `options.xcom` is given (the REST API), else left null with its `storedAt` (the monitor's page,
 * which shows where it is rather than megabytes of JSON).
 */
export async function getTaskXcom(db: Kysely<Database>, ref: TaskInstanceRef, options: { xcom?: XcomStore } = {}): Promise<XcomEntry[]> {
  const ti = await getTaskInstance(db, ref);
  const rows = await db
    .selectFrom('tributary.xcom as x')
    .innerJoin('tributary.task_instance as t', (join) => join.onRef('t.run_pk', '=', 'x.run_pk').onRef('t.task_id', '=', 'x.task_id').onRef('t.map_index', '=', 'x.map_index'))
    .select(['x.key', 'x.value', 'x.size_bytes', 'x.created_at', 'x.offloaded'])
    .where('t.id', '=', ti.id)
    .orderBy('x.key')
    .execute();
  return Promise.all(
    rows.map(async (r) => {
      const entry: XcomEntry = { key: r.key, value: r.value, sizeBytes: r.size_bytes, createdAt: r.created_at, storedAt: null };
      if (!r.offloaded) return entry;
      const stored = r.value as XcomObjectRef;
      entry.storedAt = { bucket: stored.bucket, key: stored.key };
      entry.value = options.xcom ? await options.xcom.read(stored, { dagId: ref.dagId, taskId: ref.taskId }) : null;
      return entry;
    }),
  );
}
