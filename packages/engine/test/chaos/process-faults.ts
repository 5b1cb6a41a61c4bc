import { setTimeout as sleep } from 'node:timers/promises';
import type { EmbeddedPostgresHandle } from '../../src/db/embedded.js';
import type { ChaosCluster } from './cluster.js';
import { withClient } from './ledger.js';
import { chaosCluster, cli, finish, unfinishedRuns, until, waitForDags, waitForRuns, type ScenarioFigures, type ScenarioOptions } from './scenario.js';

const WORKER_ARGS = ['--concurrency', '8'];

function startSchedulerAndTwoWorkers(cluster: ChaosCluster): void {
  cluster.start('scheduler', 'scheduler');
  cluster.start('worker', 'worker-1', WORKER_ARGS);
  cluster.start('worker', 'worker-2', WORKER_ARGS);
}

/** The worker process running the most tasks now (by the pids the database records). */
async function busiestWorker(cluster: ChaosCluster, databaseUrl: string): Promise<string | null> {
  const counts = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ pid: number; n: string }>(`SELECT pid, count(*) AS n FROM tributary.task_instance WHERE state = 'running' GROUP BY pid`);
    return new Map(rows.map((r) => [r.pid, Number(r.n)]));
  });
  const workers = cluster.alive().filter((p) => p.kind === 'worker');
  workers.sort((a, b) => (counts.get(b.child.pid!) ?? 0) - (counts.get(a.child.pid!) ?? 0));
  return workers[0] && (counts.get(workers[0].child.pid!) ?? 0) > 0 ? workers[0].name : null;
}

/**
 * `kill -9` a worker in the middle of tasks, `kills` times, during a run of the 200-task DAG (two
 * workers; the killed one restarts at once). Recovery: from a kill to the next start of each task
 * the kill cut short.
 */
export async function workerKills(options: ScenarioOptions & { kills: number; everyMs?: number }): Promise<ScenarioFigures> {
  const startedAt = Date.now();
  const cluster = await chaosCluster(options, { CHAOS_TASK_MIN_MS: '300', CHAOS_TASK_MAX_MS: '1500' });
  const dags = ['chaos_wide'];
  let faults = 0;
  try {
    startSchedulerAndTwoWorkers(cluster);
    await waitForDags(options.databaseUrl, dags);
    await cli(cluster, options.databaseUrl, ['dags', 'trigger', 'chaos_wide']);
    while (faults < options.kills && (await unfinishedRuns(options.databaseUrl, dags, 1)) !== 0) {
      await sleep(options.everyMs ?? 2_000);
      const victim = await busiestWorker(cluster, options.databaseUrl);
      if (!victim) continue;
      await cluster.kill(victim);
      faults++;
      await sleep(200);
      cluster.start('worker', victim, WORKER_ARGS);
    }
    await waitForRuns(options.databaseUrl, dags, 1, options.timeoutMs ?? 180_000);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return finish(cluster, options, 'worker kill -9', dags, { faults, startedAt, expectedRuns: 1 });
}

/**
 * `kill -9` the scheduler `kills` times while runs of the mapped DAG and the 200-task DAG go on, and
 * start it again a second later. Recovery: from a kill to the restarted scheduler's first heartbeat.
 */
export async function schedulerKills(options: ScenarioOptions & { kills: number; everyMs?: number }): Promise<ScenarioFigures> {
  const startedAt = Date.now();
  const cluster = await chaosCluster(options, { CHAOS_TASK_MIN_MS: '200', CHAOS_TASK_MAX_MS: '1000' });
  const dags = ['chaos_mapped', 'chaos_wide'];
  let faults = 0;
  let maxRecoveryMs = 0;
  try {
    startSchedulerAndTwoWorkers(cluster);
    await waitForDags(options.databaseUrl, dags);
    for (const dag of dags) await cli(cluster, options.databaseUrl, ['dags', 'trigger', dag]);
    while (faults < options.kills && (await unfinishedRuns(options.databaseUrl, dags, dags.length)) !== 0) {
      await sleep(options.everyMs ?? 1_500);
      const killedAt = Date.now();
      await cluster.kill('scheduler');
      faults++;
      await sleep(1_000);
      const restarted = cluster.start('scheduler', 'scheduler');
      await until(60_000, 'the restarted scheduler to report', () =>
        withClient(options.databaseUrl, async (client) => {
          const { rows } = await client.query(`SELECT 1 FROM tributary.process WHERE kind = 'scheduler' AND pid = $1`, [restarted.child.pid]);
          return rows.length > 0;
        }),
      );
      maxRecoveryMs = Math.max(maxRecoveryMs, Date.now() - killedAt);
    }
    await waitForRuns(options.databaseUrl, dags, dags.length, options.timeoutMs ?? 180_000);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return finish(cluster, options, 'scheduler kill -9', dags, { faults, maxRecoveryMs, startedAt, expectedRuns: dags.length });
}

/**
 * Two schedulers and three workers over `runs` catchup runs of one DAG: the schedulers race to
 * create every run; nothing may be created or executed twice.
 */
export async function twoSchedulersThreeWorkers(options: ScenarioOptions & { runs: number }): Promise<ScenarioFigures> {
  const startedAt = Date.now();
  // Intervals that all ended long ago, starting on a minute boundary.
  const start = new Date(Math.floor((Date.now() - (options.runs + 60) * 60_000) / 60_000) * 60_000).toISOString();
  const cluster = await chaosCluster(options, { CHAOS_TASK_MIN_MS: '20', CHAOS_TASK_MAX_MS: '200', CHAOS_CATCHUP_START: start, CHAOS_CATCHUP_RUNS: String(options.runs) });
  const dags = ['chaos_catchup'];
  try {
    cluster.start('scheduler', 'scheduler-1');
    cluster.start('scheduler', 'scheduler-2');
    for (const name of ['worker-1', 'worker-2', 'worker-3']) cluster.start('worker', name, WORKER_ARGS);
    await waitForDags(options.databaseUrl, dags);
    await cli(cluster, options.databaseUrl, ['dags', 'unpause', 'chaos_catchup']);
    await waitForRuns(options.databaseUrl, dags, options.runs, options.timeoutMs ?? 240_000);
    // Give a late duplicate the chance to appear before judging.
    await sleep(1_500);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return finish(cluster, options, '2 schedulers + 3 workers', dags, { faults: 0, startedAt, expectedRuns: options.runs });
}

/**
 * Restart PostgreSQL (`restarts` times: a fast shutdown, then crash-like immediate ones) in the
 * middle of a run of the 200-task DAG, down for `downMs` each time. Scheduler and workers must log,
 * reconnect and finish without crashing. Recovery: from the server being up again to the first task
 * execution starting after it.
 */
export async function postgresRestarts(
  options: ScenarioOptions & { server: () => EmbeddedPostgresHandle; restartServer: () => Promise<EmbeddedPostgresHandle>; restarts: number; downMs?: number },
): Promise<ScenarioFigures> {
  const startedAt = Date.now();
  const cluster = await chaosCluster(options, { CHAOS_TASK_MIN_MS: '200', CHAOS_TASK_MAX_MS: '900' });
  const dags = ['chaos_wide'];
  let faults = 0;
  let maxRecoveryMs = 0;
  try {
    startSchedulerAndTwoWorkers(cluster);
    await waitForDags(options.databaseUrl, dags);
    await cli(cluster, options.databaseUrl, ['dags', 'trigger', 'chaos_wide']);
    while (faults < options.restarts && (await unfinishedRuns(options.databaseUrl, dags, 1)) !== 0) {
      await sleep(2_000);
      await options.server().stop(faults === 0 ? 'fast' : 'immediate');
      faults++;
      await sleep(options.downMs ?? 3_000);
      await options.restartServer();
      const upAt = Date.now();
      await until(60_000, 'a task to start after the restart', () =>
        withClient(options.databaseUrl, async (client) => {
          const { rows } = await client.query(`SELECT 1 FROM chaos.ledger WHERE started_at > to_timestamp($1 / 1000.0)`, [upAt]);
          return rows.length > 0;
        }),
      );
      maxRecoveryMs = Math.max(maxRecoveryMs, Date.now() - upAt);
    }
    await waitForRuns(options.databaseUrl, dags, 1, options.timeoutMs ?? 180_000);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return finish(cluster, options, 'PostgreSQL restart', dags, { faults, maxRecoveryMs, startedAt, expectedRuns: 1 });
}
