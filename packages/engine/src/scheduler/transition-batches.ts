import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SKIP_DECISION_KEY } from '../dag/flow.js';
import { Batcher, perOwner } from '../db/batcher.js';
import type { Database } from '../db/schema.js';
import type { ClaimedTaskInstance, WorkerIdentity } from './task-transitions.js';
import type { PipelinedConnection } from '../db/pipeline.js';
import { executePrepared } from '../db/prepared.js';
import { storedValue } from '../storage/xcom-store.js';

// The hot path of every task — claim, upstream results, log lines, success, the checks after it —
// as batched statements: a worker running many short tasks sends one statement per step for all
// of them instead of one per task. See {@link Batcher}.

/** A claim request: the task instance and the try number it had when its job was sent. */
export interface ClaimInput {
  tiId: number;
  tryNumber: number;
  worker: WorkerIdentity;
  /**
   * The upstream results the task will ask for, read by the claim itself: valid when the run is
   * still at DAG version `versionId` (else the claim leaves them out and the runner reads them).
   */
  upstream?: { versionId: number; taskIds: readonly string[]; mapped: readonly string[] };
}

/**
 * The results (map index, value) of one task of one run, as a subquery to join laterally. `OFFSET 0`
 * keeps it from being flattened, so the lookup always uses run and task id as index keys: with
 * planner statistics from before the run's results existed, a flattened join was seen scanning every
 * result of the run once per task instance claimed.
 */
function xcomLookup(runPk: RawBuilder<unknown>, taskId: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`SELECT x.map_index, x.value, x.offloaded FROM tributary.xcom x
              WHERE x.run_pk = ${runPk} AND x.task_id = ${taskId} AND x.key = 'return_value' OFFSET 0`;
}

/** An upstream result row: task, map index (-1 unmapped), value, and whether the value is a reference to an offloaded one. */
type ResultRow = { task_id: string; map_index: number; value: unknown; offloaded: boolean };

/**
 * Upstream results by task id from result rows in task and map-index order: an unmapped task's value
 * (absent when it has none), a mapped task's list of its instances' values (empty when none). An
 * offloaded value is an `OffloadedXcom` for the caller to resolve.
 */
function assembleUpstream(rows: Iterable<ResultRow>, taskIds: readonly string[], mapped: readonly string[]): Record<string, unknown> {
  const found = new Map<string, { value: unknown; list: unknown[] }>();
  for (const row of rows) {
    let entry = found.get(row.task_id);
    if (!entry) found.set(row.task_id, (entry = { value: undefined, list: [] }));
    const value = storedValue(row);
    if (row.map_index === -1) entry.value = value;
    else entry.list.push(value);
  }
  const values: Record<string, unknown> = {};
  const isMapped = new Set(mapped);
  for (const taskId of taskIds) {
    const entry = found.get(taskId);
    if (isMapped.has(taskId)) values[taskId] = entry?.list ?? [];
    else if (entry && entry.value !== undefined) values[taskId] = entry.value;
  }
  return values;
}

/**
 * Claim task instances in one statement; run it inside the transaction that took their jobs. The
 * statement is sent before the first await (a pipelined transaction relies on it). @internal
 */
export async function flushClaims(db: Kysely<Database> | PipelinedConnection, inputs: ClaimInput[]): Promise<(ClaimedTaskInstance | null)[]> {
  const wantedTis: number[] = [];
  const wantedTasks: string[] = [];
  for (const input of inputs) {
    for (const taskId of input.upstream?.taskIds ?? []) {
      wantedTis.push(input.tiId);
      wantedTasks.push(taskId);
    }
  }
  const rows = await executePrepared(db, sql<ClaimedTaskInstance & { upstreamRows: [string, number, unknown, boolean][] | null }>`
    WITH job AS (
      SELECT * FROM unnest(${inputs.map((i) => i.tiId)}::bigint[], ${inputs.map((i) => i.tryNumber)}::int[],
                           ${inputs.map((i) => i.worker.hostname)}::text[], ${inputs.map((i) => i.worker.id)}::text[],
                           ${inputs.map((i) => i.worker.pid)}::int[], ${inputs.map((i) => i.worker.executor)}::text[],
                           ${inputs.map((i) => i.upstream?.versionId ?? null)}::bigint[])
             AS j(id, try_number, hostname, worker_id, pid, executor, version_id)
    ), wanted AS (
      SELECT * FROM unnest(${wantedTis}::bigint[], ${wantedTasks}::text[]) AS w(ti_id, task_id)
    ), claimed AS (
      -- A sensor resuming after a reschedule continues its try: same number, same start.
      UPDATE tributary.task_instance t
         SET state = 'running', try_number = t.try_number + CASE WHEN t.resuming THEN 0 ELSE 1 END,
             start_date = CASE WHEN t.resuming THEN coalesce(t.start_date, now()) ELSE now() END, end_date = NULL,
             heartbeat_at = now(), hostname = j.hostname, worker_id = j.worker_id, pid = j.pid,
             executor = j.executor, next_retry_at = NULL, resuming = false, updated_at = now()
        FROM job j
       -- IS NOT DISTINCT FROM: a plain state test matches the partial indexes on state, which the
       -- planner then scans whole (every queued instance) instead of looking up these ids.
       WHERE t.id = j.id AND t.state IS NOT DISTINCT FROM 'queued' AND t.try_number = j.try_number
      RETURNING t.id, t.run_pk, t.dag_id, t.task_id, t.map_index, t.try_number, t.max_tries, t.pool, t.hostname, t.worker_id, t.pid, t.start_date
    ), tried AS (
      INSERT INTO tributary.task_try (ti_id, try_number, state, hostname, worker_id, pid, start_date)
      SELECT id, try_number, 'running', hostname, worker_id, pid, start_date FROM claimed
      ON CONFLICT (ti_id, try_number) DO UPDATE
        SET state = 'running', end_date = NULL, duration_ms = NULL,
            hostname = EXCLUDED.hostname, worker_id = EXCLUDED.worker_id, pid = EXCLUDED.pid
    ), cleared AS (
      DELETE FROM tributary.xcom x USING claimed c
       WHERE x.run_pk = c.run_pk AND x.task_id = c.task_id AND x.map_index = c.map_index
    ), upstream AS (
      -- The upstream results, when asked for the version the run is at: one round trip less per task.
      SELECT w.ti_id, json_agg(json_build_array(w.task_id, x.map_index, x.value, x.offloaded) ORDER BY w.task_id, x.map_index) AS rows
        FROM wanted w
        JOIN claimed c ON c.id = w.ti_id
        CROSS JOIN LATERAL (${xcomLookup(sql`c.run_pk`, sql`w.task_id`)}) x
       GROUP BY w.ti_id
    )
    SELECT c.id, c.run_pk AS "runPk", c.dag_id AS "dagId", c.task_id AS "taskId", c.map_index AS "mapIndex",
           c.try_number AS "tryNumber", c.max_tries AS "maxTries", c.pool, r.run_id AS "runId", r.run_type AS "runType",
           r.logical_date AS "logicalDate", r.data_interval_start AS "dataIntervalStart",
           r.data_interval_end AS "dataIntervalEnd", r.conf, r.dag_version_id AS "dagVersionId",
           CASE WHEN r.dag_version_id = j.version_id THEN coalesce(u.rows, '[]'::json) END AS "upstreamRows"
      FROM claimed c
      JOIN tributary.dag_run r ON r.id = c.run_pk
      JOIN job j ON j.id = c.id
      LEFT JOIN upstream u ON u.ti_id = c.id`);
  const byId = new Map(rows.rows.map((row) => [Number(row.id), row]));
  return inputs.map((input) => {
    const row = byId.get(input.tiId);
    if (!row) return null;
    const { upstreamRows, ...claimed } = row;
    // An offloaded upstream result is read from the object store by the runner (upstreamResults).
    if (upstreamRows !== null && input.upstream && !upstreamRows.some((r) => r[3])) {
      const results = upstreamRows.map(([task_id, map_index, value]) => ({ task_id, map_index, value, offloaded: false }));
      return { ...claimed, upstream: assembleUpstream(results, input.upstream.taskIds, input.upstream.mapped) };
    }
    return claimed;
  });
}

/** Claims of one database, batched (one instance at most once per statement). */
export const claimBatcher = perOwner(
  (db: Kysely<Database>) => new Batcher<ClaimInput, ClaimedTaskInstance | null>((inputs) => flushClaims(db, inputs), { key: (i) => i.tiId }),
);

/** A success to record: the try, and its result as JSON text (null for none). */
export interface SuccessInput {
  id: number;
  tryNumber: number;
  resultJson: string | null;
  /** `resultJson` is the reference to a result offloaded to the object store. */
  resultOffloaded?: boolean;
  /** Size of the result's JSON in bytes, when `resultJson` is not the result itself (offloaded). */
  resultSizeBytes?: number | null;
  /** A branch or short-circuit task's decision (`{ skip }`), stored beside the result; null for none. */
  decisionJson?: string | null;
  /** The try's last log lines, written by the same statement. */
  logLines?: readonly LogLine[];
  /** The arguments the try ran with (JSON), stored as the instance's `rendered_args`; null keeps what is there. */
  renderedArgsJson?: string | null;
}

/** A task log line. */
export interface LogLine {
  at: Date;
  level: string;
  message: string;
}

function logColumns(inputs: readonly { tiId: number; tryNumber: number; lines: readonly LogLine[] }[]) {
  const columns = { tis: [] as number[], tries: [] as number[], at: [] as Date[], levels: [] as string[], messages: [] as string[] };
  for (const input of inputs) {
    for (const line of input.lines) {
      columns.tis.push(input.tiId);
      columns.tries.push(input.tryNumber);
      columns.at.push(line.at);
      columns.levels.push(line.level);
      columns.messages.push(line.message);
    }
  }
  return columns;
}

/** Record successes in one statement; run it inside a transaction to add work that must commit with them. @internal */
export async function flushSuccesses(db: Kysely<Database>, inputs: SuccessInput[]): Promise<boolean[]> {
  const log = logColumns(inputs.map((i) => ({ tiId: i.id, tryNumber: i.tryNumber, lines: i.logLines ?? [] })));
  const rows = await executePrepared(db, sql<{ id: string | number }>`
    WITH v AS (
      SELECT * FROM unnest(${inputs.map((i) => i.id)}::bigint[], ${inputs.map((i) => i.tryNumber)}::int[],
                           ${inputs.map((i) => i.resultJson)}::text[], ${inputs.map((i) => i.decisionJson ?? null)}::text[],
                           ${inputs.map((i) => i.renderedArgsJson ?? null)}::text[],
                           ${inputs.map((i) => i.resultOffloaded === true)}::boolean[], ${inputs.map((i) => i.resultSizeBytes ?? null)}::int[])
             AS v(id, try_number, result, decision, rendered, offloaded, size)
    ), done AS (
      UPDATE tributary.task_instance t SET state = 'success', end_date = now(), updated_at = now(),
             rendered_args = coalesce(v.rendered::jsonb, t.rendered_args)
        FROM v
       WHERE t.id = v.id AND t.state IS NOT DISTINCT FROM 'running' AND t.try_number = v.try_number -- by id (see the claim)
      RETURNING t.id, t.run_pk, t.task_id, t.map_index, t.end_date, t.try_number, v.result, v.decision, v.offloaded, v.size
    ), decided AS (
      INSERT INTO tributary.xcom (run_pk, task_id, map_index, key, value, size_bytes)
      SELECT run_pk, task_id, map_index, ${SKIP_DECISION_KEY}, decision::jsonb, octet_length(decision) FROM done
       WHERE decision IS NOT NULL
      ON CONFLICT (run_pk, task_id, map_index, key)
        DO UPDATE SET value = EXCLUDED.value, size_bytes = EXCLUDED.size_bytes, created_at = now()
    ), tried AS (
      UPDATE tributary.task_try tt SET state = 'success', end_date = d.end_date,
             duration_ms = (extract(epoch FROM d.end_date - tt.start_date) * 1000)::int
        FROM done d WHERE tt.ti_id = d.id AND tt.try_number = d.try_number
    ), stored AS (
      INSERT INTO tributary.xcom (run_pk, task_id, map_index, key, value, size_bytes, offloaded)
      SELECT run_pk, task_id, map_index, 'return_value', result::jsonb, coalesce(size, octet_length(result)), offloaded FROM done
       WHERE result IS NOT NULL
      ON CONFLICT (run_pk, task_id, map_index, key)
        DO UPDATE SET value = EXCLUDED.value, size_bytes = EXCLUDED.size_bytes, offloaded = EXCLUDED.offloaded, created_at = now()
    ), logged AS (
      INSERT INTO tributary.task_log (ti_id, try_number, logged_at, level, message)
      SELECT * FROM unnest(${log.tis}::bigint[], ${log.tries}::int[], ${log.at}::timestamptz[], ${log.levels}::text[], ${log.messages}::text[])
    )
    SELECT id FROM done`);
  const done = new Set(rows.rows.map((r) => Number(r.id)));
  return inputs.map((input) => done.has(input.id));
}

/** Successes of one database, batched. */
export const successBatcher = perOwner(
  (db: Kysely<Database>) => new Batcher<SuccessInput, boolean>((inputs) => flushSuccesses(db, inputs), { key: (i) => i.id }),
);

/** Upstream results wanted: a run and task ids. */
export interface UpstreamInput {
  runPk: number;
  taskIds: readonly string[];
  /** Those of `taskIds` that are mapped: their result is the list of their instances' results. */
  mapped?: readonly string[];
}

async function flushUpstream(db: Kysely<Database>, inputs: UpstreamInput[]): Promise<Record<string, unknown>[]> {
  const runs: number[] = [];
  const tasks: string[] = [];
  const asked = new Set<string>();
  for (const input of inputs) {
    for (const taskId of input.taskIds) {
      // Each (run, task) once: instances of one mapped task ask for the same upstream results.
      const key = `${input.runPk}\u0000${taskId}`;
      if (asked.has(key)) continue;
      asked.add(key);
      runs.push(input.runPk);
      tasks.push(taskId);
    }
  }
  const rows = await executePrepared(db, sql<{ run_pk: string | number; task_id: string; map_index: number; value: unknown; offloaded: boolean }>`
    SELECT u.run_pk, u.task_id, x.map_index, x.value, x.offloaded
      FROM unnest(${runs}::bigint[], ${tasks}::text[]) AS u(run_pk, task_id)
      CROSS JOIN LATERAL (${xcomLookup(sql`u.run_pk`, sql`u.task_id`)}) x
     ORDER BY u.run_pk, u.task_id, x.map_index`);
  const byRun = new Map<number, ResultRow[]>();
  for (const row of rows.rows) {
    const list = byRun.get(Number(row.run_pk)) ?? [];
    list.push(row);
    byRun.set(Number(row.run_pk), list);
  }
  return inputs.map((input) => assembleUpstream(byRun.get(input.runPk) ?? [], input.taskIds, input.mapped ?? []));
}

/** Upstream-result reads of one database, batched. */
export const upstreamBatcher = perOwner(
  (db: Kysely<Database>) => new Batcher<UpstreamInput, Record<string, unknown>>((inputs) => flushUpstream(db, inputs)),
);

/** Log lines of one try. */
export interface LogLinesInput {
  tiId: number;
  tryNumber: number;
  lines: readonly LogLine[];
}

async function flushLogLines(db: Kysely<Database>, inputs: LogLinesInput[]): Promise<void[]> {
  const log = logColumns(inputs);
  await executePrepared(db, sql`INSERT INTO tributary.task_log (ti_id, try_number, logged_at, level, message)
            SELECT * FROM unnest(${log.tis}::bigint[], ${log.tries}::int[], ${log.at}::timestamptz[], ${log.levels}::text[], ${log.messages}::text[])`);
  return inputs.map(() => undefined);
}

/** Task log writes of one database, batched (lines keep their order within each try). */
export const logBatcher = perOwner((db: Kysely<Database>) => new Batcher<LogLinesInput, void>((inputs) => flushLogLines(db, inputs)));
