import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { BIN } from '../support/cli.js';
import { ChaosCluster } from './cluster.js';
import { createLedger, judgeLedger, withClient, type LedgerVerdict } from './ledger.js';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, 'fixtures/process-faults/chaos_dags.ts');

/** Figures of one scenario run, as the reliability report tabulates them. */
export interface ScenarioFigures {
  scenario: string;
  /** Faults injected (kills, restarts). */
  faults: number;
  runs: number;
  runsSucceeded: number;
  taskInstances: number;
  executions: number;
  /** Duplicate runs (same DAG and logical date) plus duplicate task instances. */
  duplicates: number;
  /** Task instances recorded successful twice. */
  doubleSuccesses: number;
  /** Executions of one task instance overlapping in time. */
  overlaps: number;
  lostResults: number;
  /** Processes that exited without being killed. */
  crashes: number;
  /** Longest time from a fault to the recovery the scenario measures (see each scenario). */
  maxRecoveryMs: number;
  durationMs: number;
  /** What went wrong, for the test's failure message. */
  problems: string[];
}

/** Options every scenario takes. */
export interface ScenarioOptions {
  /** A fresh database (migrated, or empty: the processes migrate it). */
  databaseUrl: string;
  /** Folder for the processes' logs. */
  logDir: string;
  /** Longest the scenario's runs may take to finish. */
  timeoutMs?: number;
}

/** Timings that notice a dead worker in ~6 s instead of the production 20 s (and tolerate a loaded CI machine). */
export const FAST_HEARTBEATS = { TRIBUTARY_HEARTBEAT_INTERVAL_MS: '1000', TRIBUTARY_HEARTBEAT_TIMEOUT_MS: '6000' };

/** A chaos cluster running the chaos DAGs on `databaseUrl`, with the ledger created. */
export async function chaosCluster(options: ScenarioOptions, env: Record<string, string> = {}): Promise<ChaosCluster> {
  await createLedger(options.databaseUrl);
  return new ChaosCluster({
    databaseUrl: options.databaseUrl,
    dags: { 'chaos_dags.ts': readFileSync(FIXTURE, 'utf8') },
    config: { scheduler: { loopIntervalMs: 500, sweepIntervalMs: 2_000 } },
    env: { CHAOS_LEDGER_URL: options.databaseUrl, ...FAST_HEARTBEATS, ...env },
    logDir: options.logDir,
  });
}

/** Run the `tributary` CLI in the cluster's project folder. */
export async function cli(cluster: ChaosCluster, databaseUrl: string, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args, '--database-url', databaseUrl], {
    cwd: cluster.projectDir,
    env: { ...process.env, DATABASE_URL: '', TRIBUTARY_LOG_LEVEL: 'warn', TRIBUTARY_DAGS_FOLDER: '' },
  });
  return stdout;
}

/** Resolve once every DAG of `dagIds` is in the database (the scheduler's processor parsed it). */
export async function waitForDags(databaseUrl: string, dagIds: readonly string[], timeoutMs = 60_000): Promise<void> {
  await until(timeoutMs, `DAGs ${dagIds.join(', ')} to be parsed`, () =>
    withClient(databaseUrl, async (client) => {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM tributary.dag WHERE dag_id = ANY($1) AND is_active', [dagIds]);
      return Number(rows[0]!.n) === dagIds.length;
    }),
  );
}

/** Runs of `dagIds` that have not finished yet (-1 while fewer than `expected` exist). */
export async function unfinishedRuns(databaseUrl: string, dagIds: readonly string[], expected: number): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ total: string; open: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE state NOT IN ('success', 'failed')) AS open FROM tributary.dag_run WHERE dag_id = ANY($1)`,
      [dagIds],
    );
    return Number(rows[0]!.total) < expected ? -1 : Number(rows[0]!.open);
  });
}

/** Wait until `expected` runs of `dagIds` exist and all have finished. */
export async function waitForRuns(databaseUrl: string, dagIds: readonly string[], expected: number, timeoutMs: number): Promise<void> {
  await until(timeoutMs, `${expected} run(s) of ${dagIds.join(', ')} to finish`, async () => (await unfinishedRuns(databaseUrl, dagIds, expected).catch(() => -1)) === 0);
}

/** Poll `check` every 250 ms until it is true; throw naming `what` after `timeoutMs`. */
export async function until(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Runs sharing a DAG and logical date (a duplicate scheduled run). */
export async function duplicateRuns(databaseUrl: string, dagIds: readonly string[]): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query(
      `SELECT dag_id, logical_date FROM tributary.dag_run WHERE dag_id = ANY($1) AND run_type = 'scheduled' GROUP BY 1, 2 HAVING count(*) > 1`,
      [dagIds],
    );
    return rows.length;
  });
}

/** Turn a ledger verdict into figures, listing each broken invariant as a problem. */
export function figuresOf(
  scenario: string,
  verdict: LedgerVerdict,
  extra: { faults: number; crashes: number; maxRecoveryMs: number; startedAt: number; duplicateRuns?: number; expectedRuns: number },
): ScenarioFigures {
  const problems: string[] = [];
  if (verdict.runs !== extra.expectedRuns) problems.push(`expected ${extra.expectedRuns} runs, found ${verdict.runs}`);
  if (verdict.runsSucceeded !== verdict.runs) problems.push(`${verdict.runs - verdict.runsSucceeded} run(s) did not succeed`);
  if (verdict.duplicateInstances > 0) problems.push(`${verdict.duplicateInstances} duplicate task instance(s)`);
  if ((extra.duplicateRuns ?? 0) > 0) problems.push(`${extra.duplicateRuns} duplicate run(s)`);
  if (verdict.doubleSuccesses > 0) problems.push(`${verdict.doubleSuccesses} task instance(s) recorded successful twice`);
  problems.push(...verdict.overlaps.map((o) => `overlap: ${o}`));
  problems.push(...verdict.lostResults.map((key) => `result lost: ${key}`));
  for (const killed of verdict.killedTries) {
    if (killed.state !== 'failed' || killed.error !== 'HeartbeatTimeout') {
      problems.push(`killed try ${killed.key} recorded as ${killed.state ?? 'nothing'} (${killed.error ?? 'no error'}), expected failed by HeartbeatTimeout`);
    } else if (!killed.retriedToSuccess) problems.push(`killed try ${killed.key} was not retried to success`);
  }
  if (extra.crashes > 0) problems.push(`${extra.crashes} process(es) crashed`);
  return {
    scenario,
    faults: extra.faults,
    runs: verdict.runs,
    runsSucceeded: verdict.runsSucceeded,
    taskInstances: verdict.taskInstances,
    executions: verdict.executions,
    duplicates: verdict.duplicateInstances + (extra.duplicateRuns ?? 0),
    doubleSuccesses: verdict.doubleSuccesses,
    overlaps: verdict.overlaps.length,
    lostResults: verdict.lostResults.length,
    crashes: extra.crashes,
    maxRecoveryMs: Math.round(extra.maxRecoveryMs),
    durationMs: Date.now() - extra.startedAt,
    problems,
  };
}

/** Judge the runs of `dagIds` on the cluster's database and close the cluster. */
export async function finish(
  cluster: ChaosCluster,
  options: ScenarioOptions,
  scenario: string,
  dagIds: readonly string[],
  extra: { faults: number; maxRecoveryMs?: number; startedAt: number; expectedRuns: number },
): Promise<ScenarioFigures> {
  const crashes = cluster.processes.reduce((sum, p) => sum + p.crashes.length, 0);
  await cluster.close();
  const verdict = await judgeLedger(options.databaseUrl, dagIds, cluster.kills);
  const duplicates = await duplicateRuns(options.databaseUrl, dagIds);
  const recovery = Math.max(extra.maxRecoveryMs ?? 0, ...verdict.recoveryMs);
  return figuresOf(scenario, verdict, { ...extra, crashes, maxRecoveryMs: recovery, duplicateRuns: duplicates });
}
