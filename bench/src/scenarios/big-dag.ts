import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { triggerDag, waitForRun } from '@tributary/engine';
import type { BenchResult } from '../report.js';
import { childProfileArgs } from '../profiler.js';
import { CONCURRENCY } from '../baselines/index.js';
import { BENCH_DIR, benchEngine, unlimitedPool, workFolder, type Scenario, type ScenarioContext } from '../scenario.js';

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

/** Resident set size of process `pid` now and at its peak, in MB (Linux `/proc`). */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Start the scheduler and worker in a process of their own; resolves once it serves. */
function startEngineProcess(databaseUrl: string, dagsFolder: string, nodeArgs: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(BENCH_DIR, 'src/engine-process.ts'), databaseUrl, dagsFolder, String(CONCURRENCY)], {
    cwd: BENCH_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`engine process exited (${code}) before it was ready`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

async function measure(ctx: ScenarioContext, layers: number): Promise<{ tasks: number; wallMs: number; peakRssMb: number; idleRssMb: number }> {
  const folder = workFolder(`big-dag-${layers}`);
  folder.write('big.ts', layeredDagSource('bench_big', layers));
  // This process only triggers and watches; the scheduler and worker run in the measured process.
  const { engine, databaseUrl, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
  let child: ChildProcess | null = null;
  let peak = 0;
  const sampler = setInterval(() => {
    if (child?.pid) peak = Math.max(peak, rss(child.pid).now);
  }, 50);
  try {
    await unlimitedPool(engine, 'bench');
    // With --cpu-prof the process writes its profile (start-up included) when it exits.
    child = await startEngineProcess(databaseUrl, folder.dir, childProfileArgs(ctx.profileDir, `big_dag-${layers * 100}`));
    const idleRssMb = rss(child.pid!).now;
    const started = performance.now();
    const run = await triggerDag(engine.context, 'bench_big');
    const state = await waitForRun(engine.db, run.id, { timeoutMs: 1_800_000, pollMs: 200 });
    if (state !== 'success') throw new Error(`big DAG run ${state}`);
    const wallMs = performance.now() - started;
    peak = Math.max(peak, rss(child.pid!).peak);
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.task_instance WHERE run_pk = ${run.id}`.execute(engine.db);
    return { tasks: count.rows[0]!.n, wallMs, peakRssMb: peak, idleRssMb };
  } finally {
    clearInterval(sampler);
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await close();
    folder.remove();
  }
}

/**
 * `big_dag`: one DAG of 100-task layers, at 1k and 10k tasks: the peak RSS of a process running the
 * scheduler and a worker (as `tributary standalone` does, without the web server) and the wall time
 * per task, which should stay flat.
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
      ctx.log(
        `${m.tasks} tasks: ${Math.round(m.wallMs)} ms, ${(m.wallMs / m.tasks).toFixed(2)} ms/task, ` +
          `scheduler+worker process RSS ${Math.round(m.idleRssMb)} MB idle, ${Math.round(m.peakRssMb)} MB peak`,
      );
      results.push(
        { scenario: 'big_dag', system: 'tributary', metric: `per_task_${label}`, value: m.wallMs / m.tasks, unit: 'ms' },
        { scenario: 'big_dag', system: 'tributary', metric: `peak_rss_${label}`, value: m.peakRssMb, unit: 'MB' },
      );
    }
    return results;
  },
};
