import { sql } from 'kysely';
import { triggerDag, waitForRun } from '@tributary/engine';
import { baselines } from '../baselines/index.js';
import type { BenchResult } from '../report.js';
import { benchEngine, unlimitedPool, workFolder, type Scenario, type ScenarioContext } from '../scenario.js';
import { AIRFLOW_QUOTED } from './quoted.js';
import { profiled } from '../profiler.js';

function fanoutDagSource(width: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: 'bench_fanout', maxActiveTasks: ${width}, defaultTaskOptions: { pool: 'bench' } });
const root = d.task('root', () => null);
for (let i = 0; i < ${width}; i++) d.task(\`t\${i}\`, { upstream: [root] }, () => null);
export default d;
`;
}

/** Tributary: milliseconds from the root's end to the last task's end, stamped by PostgreSQL. */
async function tributaryFanout(ctx: ScenarioContext, width: number): Promise<number> {
  const folder = workFolder('fanout');
  folder.write('fanout.ts', fanoutDagSource(width));
  const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
  try {
    await unlimitedPool(engine, 'bench');
    await engine.parseDags();
    engine.startScheduler();
    await engine.startWorker({ concurrency: 16 });
    await waitForRun(engine.db, (await triggerDag(engine.context, 'bench_fanout', { runId: 'warmup' })).id, { timeoutMs: 600_000 });
    const run = await profiled(ctx.profileDir, `fanout-${width}`, async () => {
      const measured = await triggerDag(engine.context, 'bench_fanout', { runId: 'measured' });
      await waitForRun(engine.db, measured.id, { timeoutMs: 600_000 });
      return measured;
    });
    const span = await sql<{ ms: number }>`
      SELECT extract(epoch FROM max(end_date) FILTER (WHERE task_id <> 'root')
                                - max(end_date) FILTER (WHERE task_id = 'root')) * 1000 AS ms
        FROM tributary.task_instance WHERE run_pk = ${run.id}`.execute(engine.db);
    return Number(span.rows[0]!.ms);
  } finally {
    await close();
    folder.remove();
  }
}

/** `fanout`: one task, then N parallel no-op tasks; throughput from the root's end to the last end. */
export const fanout: Scenario = {
  name: 'fanout',
  description: '1 -> N parallel tasks: tasks/s',
  async run(ctx) {
    const width = ctx.quick ? 1000 : 10_000;
    const results: BenchResult[] = [];
    const throughput = (system: string, ms: number): BenchResult => ({ scenario: 'fanout', system, metric: 'throughput', value: (width / ms) * 1000, unit: 'tasks/s' });
    const ms = await tributaryFanout(ctx, width);
    ctx.log(`tributary: ${width} tasks in ${Math.round(ms)} ms`);
    results.push(throughput('tributary', ms), { scenario: 'fanout', system: 'tributary', metric: 'tasks', value: width, unit: 'tasks' });
    for (const setup of await baselines()) {
      if (!setup.open) {
        ctx.log(`${setup.name}: skipped (${setup.skip})`);
        continue;
      }
      const database = await ctx.postgres.emptyDatabase();
      const baseline = await setup.open(database.url);
      try {
        await baseline.fanout(Math.min(200, width)); // warm-up
        const baselineMs = await baseline.fanout(width);
        ctx.log(`${setup.name}: ${width} tasks in ${Math.round(baselineMs)} ms`);
        results.push(throughput(setup.name, baselineMs));
      } finally {
        await baseline.close();
        await database.drop();
      }
    }
    const pgBoss = results.find((r) => r.system === 'pg-boss');
    if (pgBoss) {
      results.push({ scenario: 'fanout', system: 'tributary', metric: 'share_of_pg_boss', value: (results[0]!.value / pgBoss.value) * 100, unit: '%' });
    }
    return [...results, ...AIRFLOW_QUOTED.fanout!];
  },
};
