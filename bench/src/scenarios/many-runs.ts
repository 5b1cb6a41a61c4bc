import { sql } from 'kysely';
import { triggerDag } from '@tributary/engine';
import { percentile, type BenchResult } from '../report.js';
import { benchEngine, unlimitedPool, workFolder, type Scenario } from '../scenario.js';
import { profiled } from '../profiler.js';

const DIAMOND = `import { dag } from '@tributary/engine';
const d = dag({ id: 'bench_diamond', maxActiveRuns: 100000, maxActiveTasks: 100000, defaultTaskOptions: { pool: 'bench' } });
const a = d.task('a', () => 1);
const b = d.task('b', { upstream: [a] }, ({ upstream }) => upstream.a + 1);
const c = d.task('c', { upstream: [a] }, ({ upstream }) => upstream.a + 2);
const e = d.task('d', { upstream: [b, c] }, ({ upstream }) => upstream.b + upstream.c);
d.task('e', { upstream: [e] }, () => null);
export default d;
`;

/** `many_runs`: N runs of a 5-task diamond triggered at once. */
export const manyRuns: Scenario = {
  name: 'many_runs',
  description: 'N runs of a 5-task diamond triggered at once: tasks/s, run p95 duration',
  async run(ctx) {
    const runs = ctx.quick ? 100 : 1000;
    const folder = workFolder('many-runs');
    folder.write('diamond.ts', DIAMOND);
    const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
    try {
      await unlimitedPool(engine, 'bench');
      await engine.parseDags();
      engine.startScheduler();
      await engine.startWorker({ concurrency: 16 });
      const triggered = await profiled(ctx.profileDir, `many_runs-${runs}`, async () => {
        const started = performance.now();
        await Promise.all(Array.from({ length: runs }, (_, i) => triggerDag(engine.context, 'bench_diamond', { runId: `r${i}` })));
        const ms = performance.now() - started;
        for (;;) {
          const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_run WHERE state IN ('queued', 'running')`.execute(engine.db);
          if (left.rows[0]!.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return ms;
      });
      const stats = await sql<{ first_start: number; last_end: number; failed: number }>`
        SELECT extract(epoch FROM min(start_date)) * 1000 AS first_start, extract(epoch FROM max(end_date)) * 1000 AS last_end,
               count(*) FILTER (WHERE state <> 'success')::int AS failed
          FROM tributary.dag_run`.execute(engine.db);
      const durations = await sql<{ ms: number }>`
        SELECT extract(epoch FROM end_date - queued_at) * 1000 AS ms FROM tributary.dag_run`.execute(engine.db);
      const { first_start, last_end, failed } = stats.rows[0]!;
      if (failed > 0) throw new Error(`${failed} runs did not succeed`);
      const span = Number(last_end) - Number(first_start);
      ctx.log(`${runs} runs (${runs * 5} tasks) in ${Math.round(span)} ms; triggering took ${Math.round(triggered)} ms`);
      const result = (metric: string, value: number, unit: string): BenchResult => ({ scenario: 'many_runs', system: 'tributary', metric, value, unit });
      return [
        result('runs', runs, 'runs'),
        result('throughput', ((runs * 5) / span) * 1000, 'tasks/s'),
        result('run_p95', percentile(durations.rows.map((r) => Number(r.ms)), 95), 'ms'),
        result('trigger_all', triggered, 'ms'),
      ];
    } finally {
      await close();
      folder.remove();
    }
  },
};
