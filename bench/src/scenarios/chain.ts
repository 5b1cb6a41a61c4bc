import { sql } from 'kysely';
import { triggerDag, waitForRun } from '@tributary/engine';
import { percentile, type BenchResult } from '../report.js';
import { benchEngine, workFolder, type Scenario } from '../scenario.js';

/** A DAG file with `length` no-op tasks in a line. */
export function chainDagSource(id: string, length: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: '${id}', maxActiveTasks: 1000 });
let previous = d.task('t0', () => null);
for (let i = 1; i < ${length}; i++) previous = d.task(\`t\${i}\`, { upstream: [previous] }, () => null);
export default d;
`;
}

/**
 * `chain`: N no-op tasks in a line through the real scheduler, queue and worker; a hop is the time
 * from one task's end to the next one's start, both stamped by PostgreSQL.
 */
export const chain: Scenario = {
  name: 'chain',
  description: 'N tasks in a line: per-hop latency (finish -> next start)',
  async run(ctx) {
    const length = ctx.quick ? 100 : 500;
    const folder = workFolder('chain');
    folder.write('chain.ts', chainDagSource('bench_chain', length));
    const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
    try {
      await engine.parseDags();
      engine.startScheduler();
      await engine.startWorker({ concurrency: 4 });
      // The first run imports the DAG file into the worker; measure the second.
      await waitForRun(engine.db, (await triggerDag(engine.context, 'bench_chain', { runId: 'warmup' })).id, { timeoutMs: 120_000 });
      const run = await triggerDag(engine.context, 'bench_chain', { runId: 'measured' });
      const started = performance.now();
      await waitForRun(engine.db, run.id, { timeoutMs: 300_000 });
      const wall = performance.now() - started;
      // Microsecond timestamps from PostgreSQL (a JS Date would round to whole milliseconds).
      const rows = await sql<{ start_ms: number; end_ms: number }>`
        SELECT extract(epoch FROM start_date) * 1000 AS start_ms, extract(epoch FROM end_date) * 1000 AS end_ms
          FROM tributary.task_instance WHERE run_pk = ${run.id}
         ORDER BY (substring(task_id FROM 2))::int`.execute(engine.db);
      const hops: number[] = [];
      for (let i = 1; i < rows.rows.length; i++) hops.push(Number(rows.rows[i]!.start_ms) - Number(rows.rows[i - 1]!.end_ms));
      ctx.log(`chain of ${length}: ${hops.length} hops, wall ${Math.round(wall)} ms`);
      const result = (metric: string, value: number, unit: string): BenchResult => ({ scenario: 'chain', system: 'tributary', metric, value, unit });
      return [
        result('hop_p50', percentile(hops, 50), 'ms'),
        result('hop_p95', percentile(hops, 95), 'ms'),
        result('hop_max', Math.max(...hops), 'ms'),
        result('tasks', length, 'tasks'),
        result('wall', wall, 'ms'),
      ];
    } finally {
      await close();
      folder.remove();
    }
  },
};
