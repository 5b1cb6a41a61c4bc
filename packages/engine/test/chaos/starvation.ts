import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosCluster } from './cluster.js';
import { createLedger, withClient } from './ledger.js';
import { FAST_HEARTBEATS, cli, finish, waitForDags, waitForRuns, type ScenarioFigures, type ScenarioOptions } from './scenario.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/process-faults/starving_dags.ts');

/** How one try of a task ended. */
export interface TryRecord {
  state: string;
  error: string | null;
  message: string | null;
}

/** Figures of the starvation scenario, plus what the tests look at. */
export interface StarvationFigures extends ScenarioFigures {
  /** Oldest the worker's heartbeat got while the thread tasks blocked and leaked. */
  maxHeartbeatAgeMs: number;
  /** Tries of each task of `chaos_starve`. */
  tries: Record<string, TryRecord[]>;
  /** The same blocking loop run in the worker's own thread (`chaos_starve_local`): its tries. */
  localBlockTries: TryRecord[];
}

async function triesOf(databaseUrl: string, dagId: string): Promise<Record<string, TryRecord[]>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<TryRecord & { task_id: string }>(
      `SELECT t.task_id, tt.state, tt.error->>'name' AS error, tt.error->>'message' AS message
         FROM tributary.task_try tt JOIN tributary.task_instance t ON t.id = tt.ti_id JOIN tributary.dag_run r ON r.id = t.run_pk
        WHERE r.dag_id = $1 ORDER BY t.task_id, tt.try_number`,
      [dagId],
    );
    const byTask: Record<string, TryRecord[]> = {};
    for (const { task_id, ...record } of rows) (byTask[task_id] ??= []).push(record);
    return byTask;
  });
}

/**
 * Tasks that block the event loop for longer than the heartbeat timeout and leak memory, run with
 * the `thread` executor by a real worker process: its heartbeats must go on (sampled from the
 * database every 250 ms), the leak fail alone, and the other tasks run meanwhile. Then the same loop
 * with the `local` executor, for contrast: it starves the worker and is failed as a zombie.
 * Recovery: the oldest the worker's heartbeat got.
 */
export async function starvedWorker(options: ScenarioOptions): Promise<StarvationFigures> {
  const startedAt = Date.now();
  await createLedger(options.databaseUrl); // judged like the other scenarios (these tasks write no rows)
  const cluster = new ChaosCluster({
    databaseUrl: options.databaseUrl,
    dags: { 'starving_dags.ts': readFileSync(FIXTURE, 'utf8') },
    config: { scheduler: { loopIntervalMs: 500, sweepIntervalMs: 2_000 } },
    env: { ...FAST_HEARTBEATS, CHAOS_BLOCK_MS: '10000' },
    logDir: options.logDir,
  });
  let maxHeartbeatAgeMs = 0;
  try {
    cluster.start('scheduler', 'scheduler');
    const worker = cluster.start('worker', 'worker', ['--concurrency', '16']);
    await waitForDags(options.databaseUrl, ['chaos_starve', 'chaos_starve_local']);
    await cli(cluster, options.databaseUrl, ['dags', 'trigger', 'chaos_starve']);
    const sampling = (async () => {
      for (;;) {
        const age = await withClient(options.databaseUrl, async (client) => {
          const { rows } = await client.query<{ age: number; open: string }>(
            `SELECT (SELECT extract(epoch FROM now() - heartbeat_at) * 1000 FROM tributary.process WHERE kind = 'worker' AND pid = $1) AS age,
                    (SELECT count(*) FROM tributary.dag_run WHERE dag_id = 'chaos_starve' AND state NOT IN ('success', 'failed')) AS open`,
            [worker.child.pid],
          );
          return rows[0]!;
        });
        if (age.age !== null) maxHeartbeatAgeMs = Math.max(maxHeartbeatAgeMs, Number(age.age));
        if (Number(age.open) === 0) return;
        await sleep(250);
      }
    })();
    await waitForRuns(options.databaseUrl, ['chaos_starve'], 1, options.timeoutMs ?? 120_000);
    await sampling;
    await cli(cluster, options.databaseUrl, ['dags', 'trigger', 'chaos_starve_local']);
    await waitForRuns(options.databaseUrl, ['chaos_starve', 'chaos_starve_local'], 2, options.timeoutMs ?? 120_000);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const tries = await triesOf(options.databaseUrl, 'chaos_starve');
  const localBlockTries = (await triesOf(options.databaseUrl, 'chaos_starve_local')).block ?? [];
  const figures = await finish(cluster, options, 'task blocks the event loop / leaks memory (thread executor)', ['chaos_starve'], {
    faults: 2,
    maxRecoveryMs: maxHeartbeatAgeMs,
    startedAt,
    expectedRuns: 1,
  });
  return { ...figures, maxHeartbeatAgeMs, tries, localBlockTries };
}
