import { join } from 'node:path';
import { Command } from 'commander';
import { startBenchPostgres } from './postgres.js';
import { machineInfo, printTable, writeJson, type BenchResult } from './report.js';
import { BENCH_DIR, type Scenario } from './scenario.js';
import { bigDag } from './scenarios/big-dag.js';
import { chain } from './scenarios/chain.js';
import { discovery } from './scenarios/discovery.js';
import { fanout } from './scenarios/fanout.js';
import { manyRuns } from './scenarios/many-runs.js';
import { parse } from './scenarios/parse.js';
import { uiGrid } from './scenarios/ui-grid.js';

const SCENARIOS: readonly Scenario[] = [chain, fanout, manyRuns, bigDag, parse, uiGrid, discovery];

const program = new Command('bench')
  .description('Run benchmark scenarios against one PostgreSQL (embedded, or DATABASE_URL)')
  .option('--quick', 'one-minute smoke version (smaller sizes, same code paths)')
  .option('--json <file>', 'also write the results as JSON')
  .option('--systems <names>', 'comma-separated baselines to compare with (default: pg-boss, graphile-worker, bullmq; tributary always runs)')
  .option('--pg-stats', 'print the statements that took the most server time in each scenario (pg_stat_statements)')
  .option('--cpu-prof', 'write CPU profiles of the Tributary processes to artifacts/bench/profiles/ (summarise with pnpm --dir bench profile-summary)')
  .option('--scenario <names>', `comma-separated subset of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  .parse();

const options = program.opts<{ quick?: boolean; json?: string; scenario?: string; pgStats?: boolean; systems?: string; cpuProf?: boolean }>();
if (options.systems !== undefined) process.env.TRIBUTARY_BENCH_SYSTEMS = options.systems;
const wanted = options.scenario ? options.scenario.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}\n`);
  process.exit(2);
}

const postgres = await startBenchPostgres({ pgStats: options.pgStats });
const log = (message: string): void => void process.stderr.write(`  ${message}\n`);
const profileDir = options.cpuProf ? join(BENCH_DIR, '..', 'artifacts/bench/profiles') : null;
const results: BenchResult[] = [];
try {
  for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) {
    process.stderr.write(`${scenario.name}: ${scenario.description}\n`);
    const started = performance.now();
    await postgres.takeStatementStats?.();
    results.push(...(await scenario.run({ postgres, quick: Boolean(options.quick), log, profileDir })));
    log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (postgres.takeStatementStats) {
      log('server time by statement (pg_stat_statements):');
      for (const line of await postgres.takeStatementStats()) log(`  ${line}`);
    }
  }
} finally {
  await postgres.stop();
}
const machine = machineInfo(postgres.version);
process.stdout.write(`\n${machine.cpus} CPUs, ${machine.memory}, Node ${machine.node}, ${postgres.kind} ${machine.postgres.split(' on ')[0]}\n\n`);
printTable(results);
if (options.json) writeJson(options.json, machine, results);
process.exit(0);
