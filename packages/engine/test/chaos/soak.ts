/**
 * The chaos suite's soak mode: `pnpm chaos [--duration 30m] [--report docs/reliability.md]`.
 * Runs every process-fault scenario again and again, each on a fresh database of a PostgreSQL of its
 * own, until the duration is up (at least one round), prints a table of figures, and with `--report`
 * writes it into the reliability document. Exits 1 if any round broke an invariant.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ms from 'ms';
import { connectDatabase } from '../../src/db/connect.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded.js';
import { createTestDatabase, prepareTemplateDatabase } from '../../src/testing/index.js';
import { PACKAGE_DIR } from '../support/common.js';
import { postgresRestarts, schedulerKills, twoSchedulersThreeWorkers, workerKills } from './process-faults.js';
import { markdownTable, totalsOf, updateReliabilityDoc } from './report.js';
import type { ScenarioFigures, ScenarioOptions } from './scenario.js';
import { POISON_FILES, runPoisonDagScenario } from '../support/poison-dags.js';
import { starvedWorker } from './starvation.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '0s' },
    report: { type: 'string' },
    kills: { type: 'string', default: '6' },
  },
});
const durationMs = ms(values.duration as ms.StringValue);
if (typeof durationMs !== 'number' || durationMs < 0) {
  console.error(`--duration: expected a duration such as 30m or 2h, got '${values.duration}'`);
  process.exit(2);
}
const kills = Number(values.kills);
// pnpm runs this from the engine package: a relative --report is relative to where it was typed.
const reportPath = values.report ? resolve(process.env.INIT_CWD ?? process.cwd(), values.report) : null;

const dir = mkdtempSync(join(tmpdir(), 'tributary-soak-'));
chmodSync(dir, 0o755);
const dataDir = join(dir, 'data');
let server: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir, database: 'postgres' });
const template = 'soak_template';
await prepareTemplateDatabase(server.url, template);
const logRoot = join(PACKAGE_DIR, '../../artifacts/chaos/soak-logs');

type Scenario = (options: ScenarioOptions, round: number) => Promise<ScenarioFigures>;
const scenarios: Scenario[] = [
  (o) => workerKills({ ...o, kills }),
  (o) => schedulerKills({ ...o, kills: Math.max(2, Math.round(kills / 2)) }),
  (o) => twoSchedulersThreeWorkers({ ...o, runs: 100 }),
  (o) =>
    postgresRestarts({
      ...o,
      restarts: 3,
      server: () => server,
      restartServer: async () => (server = await startEmbeddedPostgres({ dataDir, database: 'postgres', port: server.port })),
    }),
  async (o) => {
    const { tries: _tries, localBlockTries: _local, maxHeartbeatAgeMs: _age, ...row } = await starvedWorker(o);
    return row;
  },
  poisonDags,
];

/** The poison DAG scenario as a row: recovery is from the poison's arrival to the healthy DAG's next success. */
async function poisonDags(o: ScenarioOptions): Promise<ScenarioFigures> {
  const startedAt = Date.now();
  const database = connectDatabase(o.databaseUrl, { max: 2 });
  try {
    const outcome = await runPoisonDagScenario({ databaseUrl: o.databaseUrl, db: database.db });
    const { figures } = outcome;
    const runs = figures.runsAfter.success + figures.runsAfter.failed;
    const crashes = [outcome.scheduler, outcome.worker].filter((p) => !p.aliveAtEnd).length;
    const problems = [
      ...(figures.runsAfter.failed > 0 ? [`${figures.runsAfter.failed} healthy run(s) failed after the poison`] : []),
      ...(outcome.importErrors.length !== POISON_FILES.length ? [`${outcome.importErrors.length} import errors for ${POISON_FILES.length} poison files`] : []),
      ...(crashes > 0 ? [`${crashes} process(es) crashed`] : []),
    ];
    return {
      scenario: 'poison DAG files', faults: POISON_FILES.length, runs, runsSucceeded: figures.runsAfter.success, taskInstances: runs,
      executions: runs, duplicates: 0, doubleSuccesses: 0, overlaps: 0, lostResults: 0, crashes,
      maxRecoveryMs: figures.nextRunSucceededAfterMs, durationMs: Date.now() - startedAt, problems,
    };
  } finally {
    await database.close();
  }
}

const figures: ScenarioFigures[] = [];
const started = Date.now();
let round = 0;
try {
  do {
    round++;
    for (const [index, scenario] of scenarios.entries()) {
      const database = await createTestDatabase(server.url, template);
      const label = `round ${round}, scenario ${index + 1}/${scenarios.length}`;
      process.stderr.write(`${label}: running…\n`);
      try {
        const result = await scenario({ databaseUrl: database.url, logDir: join(logRoot, `round-${round}`, String(index + 1)) }, round);
        figures.push(result);
        process.stderr.write(
          `${label}: ${result.scenario}: ${result.faults} faults, ${result.runsSucceeded}/${result.runs} runs, ${result.taskInstances} task instances, ` +
            `${result.problems.length === 0 ? 'clean' : `PROBLEMS: ${result.problems.join('; ')}`} (${Math.round(result.durationMs / 1000)} s)\n`,
        );
      } finally {
        await database.drop().catch(() => {});
      }
    }
  } while (Date.now() - started < durationMs);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const how = `soak: \`pnpm chaos --duration ${values.duration}\` (${round} round(s) in ${Math.round((Date.now() - started) / 60_000)} min)`;
const table = markdownTable(totalsOf(figures), how);
console.log(table);
if (reportPath) {
  updateReliabilityDoc(reportPath, table);
  process.stderr.write(`figures written to ${reportPath}\n`);
}
process.exit(figures.some((f) => f.problems.length > 0) ? 1 : 0);
