import { sql } from 'kysely';
import { triggerDag, waitForRun } from '@tributary/engine';
import { baselines } from '../baselines/index.js';
import { percentile, type BenchResult } from '../report.js';
import { benchEngine, workFolder, type Scenario, type ScenarioContext } from '../scenario.js';
import { AIRFLOW_QUOTED } from './quoted.js';
import { profiled } from '../profiler.js';

/** A DAG file with `length` no-op tasks in a line. */
export function chainDagSource(id: string, length: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: '${id}', maxActiveTasks: 1000 });
let previous = d.task('t0', () => null);
for (let i = 1; i < ${length}; i++) previous = d.task(\`t\${i}\`, { upstream: [previous] }, () => null);
export default d;
`;
}

function hopResults(system: string, hops: number[]): BenchResult[] {
  const result = (metric: string, value: number): BenchResult => ({ scenario: 'chain', system, metric, value, unit: 'ms' });
  return [result('hop_p50', percentile(hops, 50)), result('hop_p95', percentile(hops, 95)), result('hop_max', Math.max(...hops))];
}

/** Tributary: the chain through the real scheduler, queue and worker; hops stamped by PostgreSQL. */
async function tributaryChain(ctx: ScenarioContext, length: number): Promise<number[]> {
  const folder = workFolder('chain');
  folder.write('chain.ts', chainDagSource('bench_chain', length));
  const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
  try {
    await engine.parseDags();
    engine.startScheduler();
    await engine.startWorker({ concurrency: 16 });
    // The first run imports the DAG file into the worker; measure the second.
    await waitForRun(engine.db, (await triggerDag(engine.context, 'bench_chain', { runId: 'warmup' })).id, { timeoutMs: 300_000 });
    const run = await profiled(ctx.profileDir, `chain-${length}`, async () => {
      const measured = await triggerDag(engine.context, 'bench_chain', { runId: 'measured' });
      await waitForRun(engine.db, measured.id, { timeoutMs: 300_000 });
      return measured;
    });
    // Microsecond timestamps from PostgreSQL (a JS Date would round to whole milliseconds).
    const rows = await sql<{ start_ms: number; end_ms: number }>`
      SELECT extract(epoch FROM start_date) * 1000 AS start_ms, extract(epoch FROM end_date) * 1000 AS end_ms
        FROM tributary.task_instance WHERE run_pk = ${run.id}
       ORDER BY (substring(task_id FROM 2))::int`.execute(engine.db);
    const hops: number[] = [];
    for (let i = 1; i < rows.rows.length; i++) hops.push(Number(rows.rows[i]!.start_ms) - Number(rows.rows[i - 1]!.end_ms));
    return hops;
  } finally {
    await close();
    folder.remove();
  }
}

/**
 * `chain`: N no-op tasks in a line. A hop is the time from one task's end to the next one's start:
 * for Tributary through its scheduler, queue and worker; for each baseline as its docs recommend.
 */
export const chain: Scenario = {
  name: 'chain',
  description: 'N tasks in a line: per-hop latency (finish -> next start)',
  async run(ctx) {
    const length = ctx.quick ? 100 : 500;
    const results: BenchResult[] = [{ scenario: 'chain', system: 'tributary', metric: 'tasks', value: length, unit: 'tasks' }];
    const hops = await tributaryChain(ctx, length);
    ctx.log(`tributary: ${hops.length} hops, p50 ${percentile(hops, 50).toFixed(2)} ms`);
    results.push(...hopResults('tributary', hops));
    for (const setup of await baselines()) {
      if (!setup.open) {
        ctx.log(`${setup.name}: skipped (${setup.skip})`);
        continue;
      }
      const database = await ctx.postgres.emptyDatabase();
      const baseline = await setup.open(database.url);
      try {
        await baseline.chain(Math.min(20, length)); // warm-up
        const baselineHops = await baseline.chain(length);
        ctx.log(`${setup.name}: p50 ${percentile(baselineHops, 50).toFixed(2)} ms`);
        results.push(...hopResults(setup.name, baselineHops));
      } finally {
        await baseline.close();
        await database.drop();
      }
    }
    return [...results, ...AIRFLOW_QUOTED.chain!];
  },
};
