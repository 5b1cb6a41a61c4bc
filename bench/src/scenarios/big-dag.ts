import { sql } from 'kysely';
import { triggerDag, waitForRun } from '@tributary/engine';
import type { BenchResult } from '../report.js';
import { benchEngine, unlimitedPool, workFolder, type Scenario, type ScenarioContext } from '../scenario.js';

/** `layers` layers of 100 tasks; each depends on two tasks of the layer before. */
function layeredDagSource(id: string, layers: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: '${id}', maxActiveTasks: 100000, defaultTaskOptions: { pool: 'bench' } });
let previous: string[] = [];
for (let layer = 0; layer < ${layers}; layer++) {
  const current: string[] = [];
  for (let i = 0; i < 100; i++) {
    const upstream = previous.length ? [previous[i]!, previous[(i + 1) % 100]!] : [];
    current.push(d.task(\`l\${layer}_\${i}\`, { upstream }, () => null).id);
  }
  previous = current;
}
export default d;
`;
}

async function measure(ctx: ScenarioContext, layers: number): Promise<{ tasks: number; wallMs: number; peakRssMb: number }> {
  const folder = workFolder(`big-dag-${layers}`);
  folder.write('big.ts', layeredDagSource('bench_big', layers));
  const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    await unlimitedPool(engine, 'bench');
    await engine.parseDags();
    engine.startScheduler();
    await engine.startWorker({ concurrency: 16 });
    const started = performance.now();
    const run = await triggerDag(engine.context, 'bench_big');
    const state = await waitForRun(engine.db, run.id, { timeoutMs: 1_800_000, pollMs: 200 });
    if (state !== 'success') throw new Error(`big DAG run ${state}`);
    const wallMs = performance.now() - started;
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE run_pk = ${run.id}`.execute(engine.db);
    return { tasks: count.rows[0]!.n, wallMs, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(sampler);
    await close();
    folder.remove();
  }
}

/**
 * `big_dag`: one DAG of 100-task layers, at 1k and 10k tasks: the engine process's peak RSS
 * (scheduler and worker in one process) and the wall time per task, which should stay flat.
 */
export const bigDag: Scenario = {
  name: 'big_dag',
  description: 'one DAG of 1k and 10k tasks in layers of 100: peak RSS, overhead per task',
  async run(ctx) {
    const sizes = ctx.quick ? [10, 20] : [10, 100];
    const results: BenchResult[] = [];
    for (const layers of sizes) {
      const m = await measure(ctx, layers);
      const label = `${m.tasks / 1000}k`;
      ctx.log(`${m.tasks} tasks: ${Math.round(m.wallMs)} ms, ${(m.wallMs / m.tasks).toFixed(2)} ms/task, peak RSS ${Math.round(m.peakRssMb)} MB`);
      results.push(
        { scenario: 'big_dag', system: 'tributary', metric: `per_task_${label}`, value: m.wallMs / m.tasks, unit: 'ms' },
        { scenario: 'big_dag', system: 'tributary', metric: `peak_rss_${label}`, value: m.peakRssMb, unit: 'MB' },
      );
    }
    return results;
  },
};
