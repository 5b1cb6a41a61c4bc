import pg from 'pg';
import type { KillTimes } from './cluster.js';

/** Create the execution ledger the chaos DAGs write to (schema `chaos` of the test database). */
export async function createLedger(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, (client) =>
    client.query(`
      CREATE SCHEMA IF NOT EXISTS chaos;
      CREATE TABLE IF NOT EXISTS chaos.ledger (
        id bigserial PRIMARY KEY,
        dag_id text NOT NULL, run_id text NOT NULL, task_id text NOT NULL, map_index int NOT NULL, try_number int NOT NULL,
        pid int NOT NULL,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz
      )`),
  );
}

/** What the engine's records and the ledger say about a set of runs. */
export interface LedgerVerdict {
  runs: number;
  runsSucceeded: number;
  taskInstances: number;
  /** Executions (ledger rows), including the tries killed or failed. */
  executions: number;
  /** Task instances with two rows for one (run, task, map index): must be 0. */
  duplicateInstances: number;
  /** Task instances with more than one successful try recorded: must be 0. */
  doubleSuccesses: number;
  /** Two executions of one task instance that overlapped in time: must be 0. */
  overlaps: string[];
  /** Successful task instances whose result is missing: must be 0. */
  lostResults: string[];
  /** Tries that were running in a killed process: how each was recorded. */
  killedTries: { key: string; state: string | null; error: string | null; retriedToSuccess: boolean }[];
  /** Executions whose process is still alive but never finished (e.g. cut off by a database restart). */
  unfinished: number;
  /** For each try a kill cut short: ms from the kill to the start of the instance's next execution. */
  recoveryMs: number[];
}

interface LedgerRow {
  key: string;
  run_id: string;
  try_number: number;
  pid: number;
  started: number;
  finished: number | null;
}

/**
 * Judge the runs of `dagIds` after a chaos scenario: duplicates, double successes, overlapping
 * executions (one ends when its ledger row is finished or its process was killed), lost results, and
 * how each try cut short by a kill was recorded.
 */
export async function judgeLedger(databaseUrl: string, dagIds: readonly string[], kills: KillTimes): Promise<LedgerVerdict> {
  return withClient(databaseUrl, async (client) => {
    const runs = await client.query<{ id: string; state: string }>(`SELECT id, state FROM tributary.dag_run WHERE dag_id = ANY($1)`, [dagIds]);
    const instances = await client.query<{ key: string; count: string }>(
      `SELECT r.run_id || '/' || t.task_id || '/' || t.map_index AS key, count(*) AS count
         FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
        WHERE r.dag_id = ANY($1) GROUP BY 1`,
      [dagIds],
    );
    const successes = await client.query<{ key: string; count: string }>(
      `SELECT r.run_id || '/' || t.task_id || '/' || t.map_index AS key, count(*) AS count
         FROM tributary.task_try tt JOIN tributary.task_instance t ON t.id = tt.ti_id JOIN tributary.dag_run r ON r.id = t.run_pk
        WHERE r.dag_id = ANY($1) AND tt.state = 'success' GROUP BY 1 HAVING count(*) > 1`,
      [dagIds],
    );
    // Every successful instance of these DAGs returns a value, so a success without an XCom lost it.
    const lost = await client.query<{ key: string }>(
      `SELECT r.run_id || '/' || t.task_id || '/' || t.map_index AS key
         FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
        WHERE r.dag_id = ANY($1) AND t.state = 'success'
          AND NOT EXISTS (SELECT 1 FROM tributary.xcom x WHERE x.run_pk = t.run_pk AND x.task_id = t.task_id AND x.map_index = t.map_index)`,
      [dagIds],
    );
    const ledger = await client.query<LedgerRow>(
      `SELECT run_id || '/' || task_id || '/' || map_index AS key, run_id, try_number, pid,
              extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished
         FROM chaos.ledger WHERE dag_id = ANY($1) ORDER BY started_at`,
      [dagIds],
    );
    const tries = await client.query<{ key: string; try_number: number; state: string | null; error: string | null; final: string | null }>(
      `SELECT r.run_id || '/' || t.task_id || '/' || t.map_index AS key, tt.try_number, tt.state, tt.error->>'name' AS error, t.state AS final
         FROM tributary.task_try tt JOIN tributary.task_instance t ON t.id = tt.ti_id JOIN tributary.dag_run r ON r.id = t.run_pk
        WHERE r.dag_id = ANY($1)`,
      [dagIds],
    );
    const tryByKey = new Map(tries.rows.map((t) => [`${t.key}#${t.try_number}`, t]));

    const byInstance = new Map<string, LedgerRow[]>();
    for (const row of ledger.rows) {
      const list = byInstance.get(row.key);
      if (list) list.push(row);
      else byInstance.set(row.key, [row]);
    }
    const overlaps: string[] = [];
    const recoveryMs: number[] = [];
    let unfinished = 0;
    const endOf = (row: LedgerRow): number => Number(row.finished ?? kills.get(row.pid) ?? Number.POSITIVE_INFINITY);
    for (const [key, rows] of byInstance) {
      for (let i = 0; i < rows.length; i++) {
        if (rows[i]!.finished === null && !kills.has(rows[i]!.pid)) unfinished++;
        const next = rows[i + 1];
        const killedAt = rows[i]!.finished === null ? kills.get(rows[i]!.pid) : undefined;
        if (killedAt !== undefined && next) recoveryMs.push(Number(next.started) - killedAt);
        // Clocks: the ledger stamps come from the database; kill times from this process (same machine).
        if (next && endOf(rows[i]!) > Number(next.started) + 5) {
          overlaps.push(`${key}: try ${rows[i]!.try_number} (pid ${rows[i]!.pid}) still running when try ${next.try_number} (pid ${next.pid}) started`);
        }
      }
    }
    const killedTries = ledger.rows
      .filter((row) => row.finished === null && kills.has(row.pid))
      .map((row) => {
        const recorded = tryByKey.get(`${row.key}#${row.try_number}`);
        return { key: `${row.key}#${row.try_number}`, state: recorded?.state ?? null, error: recorded?.error ?? null, retriedToSuccess: recorded?.final === 'success' };
      });
    return {
      runs: runs.rows.length,
      runsSucceeded: runs.rows.filter((r) => r.state === 'success').length,
      taskInstances: instances.rows.length,
      executions: ledger.rows.length,
      duplicateInstances: instances.rows.filter((r) => Number(r.count) > 1).length,
      doubleSuccesses: successes.rows.length,
      overlaps,
      lostResults: lost.rows.map((r) => r.key),
      killedTries,
      unfinished,
      recoveryMs,
    };
  });
}

/** Run `work` with a client of `databaseUrl`. */
export async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
