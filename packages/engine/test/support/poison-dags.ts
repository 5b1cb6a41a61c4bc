import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { eventually } from './common.js';
import { runCli } from './cli.js';
import { startTributary, tempProject, type TributaryProcess } from './tributary-process.js';

/** Id of the healthy DAG the poison files are put beside. */
export const HEALTHY_DAG_ID = 'heartbeat';

/** A healthy DAG with a run every 2 seconds. */
export const HEALTHY_DAG = `import { dag } from '@tributary/engine';
const d = dag({ id: '${HEALTHY_DAG_ID}', schedule: { every: '2s' }, startDate: '2024-01-01', catchup: false });
d.task('tick', ({ logicalDate }) => logicalDate.toISOString());
export default d;
`;

/** Parse limits of the scenario's project: a hanging or leaking file costs seconds, not the default 30 s / 1 GB. */
export const POISON_PARSE_LIMITS = { timeoutMs: 4000, threads: 2, memoryLimitMb: 256 } as const;

/** 10 MB of a generated data module that was cut off mid-write (its array is never closed). */
function truncatedHugeModule(): string {
  const row = `  ${JSON.stringify('x'.repeat(96))},\n`;
  return `// generated listing data\nexport const rows = [\n${row.repeat(Math.ceil((10 * 1024 * 1024) / row.length))}`;
}

/** A DAG file that must become an import error, and what its message must say. */
export interface PoisonFile {
  name: string;
  source: () => string;
  message: RegExp;
}

/** The poison files: each fails to load in its own way. */
export const POISON_FILES: readonly PoisonFile[] = [
  { name: 'throws-at-import.ts', source: () => "throw new Error('config missing at import');\n", message: /^config missing at import$/ },
  { name: 'syntax-error.ts', source: () => 'export const broken = ;\n', message: /Transform failed|Unexpected|Expected/ },
  {
    name: 'cycle.ts',
    source: () => `import { dag } from '@tributary/engine';
const d = dag({ id: 'cyclic' });
d.task('a', { upstream: ['c'] }, () => 1);
d.task('b', { upstream: ['a'] }, () => 1);
d.task('c', { upstream: ['b'] }, () => 1);
export default d;
`,
    message: /DAG 'cyclic': dependency cycle: a -> b -> c -> a/,
  },
  { name: 'exits-at-import.ts', source: () => 'process.exit(7);\n', message: /^the file ended the process while loading \(process\.exit\(7\)\)$/ },
  { name: 'loops-at-import.ts', source: () => 'while (true) {}\n', message: new RegExp(`^import timed out after ${POISON_PARSE_LIMITS.timeoutMs} ms`) },
  {
    name: 'leaks-at-import.ts',
    source: () => 'const keep: number[][] = [];\nfor (;;) keep.push(new Array(1_000_000).fill(1));\n',
    // Near its heap limit V8 collects garbage ever more often: on a busy machine the time limit can come first.
    message: new RegExp(`^import (ran out of memory \\(limit ${POISON_PARSE_LIMITS.memoryLimitMb} MB\\)|timed out after ${POISON_PARSE_LIMITS.timeoutMs} ms)`),
  },
  { name: 'huge-truncated.ts', source: truncatedHugeModule, message: /Transform failed|Unexpected end of file|Expected/ },
];

/** What {@link runPoisonDagScenario} measured; times are milliseconds after the poison files arrived. */
export interface PoisonDagFigures {
  /** Successful runs of the healthy DAG before the poison arrived, and the mean time between them. */
  baseline: { runs: number; meanGapMs: number };
  /** Per poison file, when its import error was recorded. */
  importErrorAfterMs: Record<string, number>;
  /** When the first run of the healthy DAG that was created after the poison arrived succeeded. */
  nextRunSucceededAfterMs: number;
  /** Successful and failed runs of the healthy DAG created after the poison arrived, while watched. */
  runsAfter: { success: number; failed: number };
  /** Longest time without a healthy run finishing successfully, from the poison's arrival to the end. */
  longestGapMs: number;
  /** How long the scenario watched after the poison arrived. */
  watchedMs: number;
}

/** Everything {@link runPoisonDagScenario} observed, for the test (or a soak runner) to judge. */
export interface PoisonDagOutcome {
  figures: PoisonDagFigures;
  /** Import errors in the database at the end (files relative to the project directory). */
  importErrors: { file: string; message: string }[];
  /** `tributary dags list --json` run against the project while the processes ran. */
  dagsList: { code: number; stderr: string; parsed: { dags: { dagId: string }[]; importErrors: { file: string; message: string }[] } | null };
  /** Whether each process was still running when the scenario ended, and its exit code on SIGTERM. */
  scheduler: { aliveAtEnd: boolean; exitCode: number | null; output: string };
  worker: { aliveAtEnd: boolean; exitCode: number | null; output: string };
}

/** Options of {@link runPoisonDagScenario}. */
export interface PoisonDagScenarioOptions {
  databaseUrl: string;
  /** A connection to the same database, for reading runs and import errors. */
  db: Kysely<Database>;
  /** @defaultValue {@link POISON_FILES} */
  poison?: readonly PoisonFile[];
  /** Healthy runs created after the poison that must succeed before the scenario ends. @defaultValue 3 */
  runsAfter?: number;
  /** @defaultValue 120000 */
  timeoutMs?: number;
}

type RunRow = { state: string; created_at: Date; end_date: Date | null };

async function healthyRuns(db: Kysely<Database>): Promise<RunRow[]> {
  return db.selectFrom('tributary.dag_run').select(['state', 'created_at', 'end_date']).where('dag_id', '=', HEALTHY_DAG_ID).orderBy('id').execute();
}

/**
 * Put poison DAG files into the DAG folder of a real, running `tributary scheduler` (with a
 * `tributary worker`), beside a healthy DAG scheduled every 2 seconds, and watch what happens: when
 * each import error is recorded, when the healthy DAG's next run succeeds, whether its runs keep
 * succeeding and whether the processes stay up. The processes are stopped and the project removed
 * before it resolves.
 */
export async function runPoisonDagScenario(options: PoisonDagScenarioOptions): Promise<PoisonDagOutcome> {
  const poison = options.poison ?? POISON_FILES;
  const runsAfter = options.runsAfter ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const { db, databaseUrl } = options;
  const project = tempProject({ parse: POISON_PARSE_LIMITS }, { 'heartbeat.ts': HEALTHY_DAG });
  const processes: TributaryProcess[] = [];
  try {
    const scheduler = startTributary(['scheduler'], { cwd: project.dir, databaseUrl });
    processes.push(scheduler);
    const worker = startTributary(['worker', '--concurrency', '4'], { cwd: project.dir, databaseUrl });
    processes.push(worker);
    await scheduler.waitFor(/scheduler running/, 60_000);

    // Baseline: the healthy DAG runs before anything is poisoned.
    const before = await eventually(async () => {
      const done = (await healthyRuns(db)).filter((r) => r.state === 'success');
      return done.length >= 3 ? done : undefined;
    }, 60_000, 'three successful runs of the healthy DAG before the poison');
    const ends = before.map((r) => r.end_date!.getTime());
    const baseline = { runs: before.length, meanGapMs: Math.round((ends[ends.length - 1]! - ends[0]!) / Math.max(1, ends.length - 1)) };

    const arrived = new Date();
    for (const file of poison) project.writeDag(file.name, file.source());
    const relative = (name: string): string => `dags/${name}`;

    const settled = await eventually(
      async () => {
        if (!scheduler.alive()) throw new Error(`the scheduler exited (code ${scheduler.child.exitCode})\n${scheduler.output().slice(-8000)}`);
        const errors = await db.selectFrom('tributary.import_error').select(['file', 'message', 'occurred_at']).execute();
        const runs = (await healthyRuns(db)).filter((r) => r.created_at >= arrived);
        const allErrors = poison.every((p) => errors.some((e) => e.file === relative(p.name) && e.occurred_at >= arrived));
        return allErrors && runs.filter((r) => r.state === 'success').length >= runsAfter ? { errors, runs } : undefined;
      },
      timeoutMs,
      `an import error for every poison file and ${runsAfter} successful healthy runs after it`,
    );

    const dagsList = await runCli(databaseUrl, ['dags', 'list', '--json'], { cwd: project.dir });
    const watchedUntil = Date.now();
    const allRuns = await healthyRuns(db);
    const after = allRuns.filter((r) => r.created_at >= arrived);
    const finished = allRuns
      .filter((r) => r.state === 'success' && r.end_date && r.end_date >= arrived)
      .map((r) => r.end_date!.getTime())
      .sort((a, b) => a - b);
    let longestGapMs = 0;
    let previous = arrived.getTime();
    for (const at of [...finished, watchedUntil]) {
      longestGapMs = Math.max(longestGapMs, at - previous);
      previous = at;
    }
    const firstAfter = settled.runs.find((r) => r.state === 'success')!;
    const figures: PoisonDagFigures = {
      baseline,
      importErrorAfterMs: Object.fromEntries(
        poison.map((p) => [p.name, settled.errors.find((e) => e.file === relative(p.name))!.occurred_at.getTime() - arrived.getTime()]),
      ),
      nextRunSucceededAfterMs: firstAfter.end_date!.getTime() - arrived.getTime(),
      runsAfter: { success: after.filter((r) => r.state === 'success').length, failed: after.filter((r) => r.state === 'failed').length },
      longestGapMs,
      watchedMs: watchedUntil - arrived.getTime(),
    };
    const importErrors = (await db.selectFrom('tributary.import_error').select(['file', 'message']).orderBy('file').execute()).map((e) => ({ ...e }));
    const aliveAtEnd = { scheduler: scheduler.alive(), worker: worker.alive() };
    const [schedulerExit, workerExit] = await Promise.all([scheduler.stop(), worker.stop()]);
    let parsed = null;
    try {
      parsed = JSON.parse(dagsList.stdout) as NonNullable<PoisonDagOutcome['dagsList']['parsed']>;
    } catch {
      // left null: the test shows stdout and stderr
    }
    return {
      figures,
      importErrors,
      dagsList: { code: dagsList.code, stderr: dagsList.stderr, parsed },
      scheduler: { aliveAtEnd: aliveAtEnd.scheduler, exitCode: schedulerExit, output: scheduler.output() },
      worker: { aliveAtEnd: aliveAtEnd.worker, exitCode: workerExit, output: worker.output() },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop(5_000)));
    project.remove();
  }
}
