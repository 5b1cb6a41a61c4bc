import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupEngine, type TestSetup } from '../helpers.js';
import { HEALTHY_DAG_ID, POISON_FILES, runPoisonDagScenario, type PoisonDagOutcome } from '../support/poison-dags.js';

// Chaos, fault 5: poison DAG files dropped into the DAG folder of a real, running scheduler process.
// The in-process variants (each poison kind parsed beside good files) are in dag-loading.test.ts and
// parse-pool.test.ts; this one checks the processes and the schedule around them.

let setup: TestSetup;
let outcome: PoisonDagOutcome;
beforeAll(async () => {
  // The engine only lends its connection for reading runs and import errors; the real processes
  // started by the scenario do the work.
  setup = await setupEngine();
  outcome = await runPoisonDagScenario({ databaseUrl: setup.database.url, db: setup.engine.db });
  // The figures a soak run reports, printed so a CI log keeps them.
  console.info(`poison DAG figures: ${JSON.stringify(outcome.figures)}`);
}, 240_000);
afterAll(() => setup?.close());

describe('poison DAG files put into a running scheduler’s DAG folder', () => {
  it('become one import error each, naming the file and what went wrong', () => {
    const files = outcome.importErrors.map((e) => e.file);
    expect(files).toEqual(POISON_FILES.map((p) => `dags/${p.name}`).sort());
    for (const poison of POISON_FILES) {
      const error = outcome.importErrors.find((e) => e.file === `dags/${poison.name}`)!;
      expect(error.message, poison.name).toMatch(poison.message);
    }
  });

  it('show up in `tributary dags list --json` beside the healthy DAG', () => {
    expect(outcome.dagsList.code, outcome.dagsList.stderr).toBe(0);
    const listed = outcome.dagsList.parsed!;
    expect(listed.dags.map((d) => d.dagId)).toEqual([HEALTHY_DAG_ID]);
    expect(listed.importErrors.map((e) => e.file).sort()).toEqual(POISON_FILES.map((p) => `dags/${p.name}`).sort());
    for (const poison of POISON_FILES) {
      expect(listed.importErrors.find((e) => e.file === `dags/${poison.name}`)!.message, poison.name).toMatch(poison.message);
    }
  });

  it('leave the scheduler and worker running, and both stop cleanly afterwards', () => {
    expect(outcome.scheduler.aliveAtEnd, outcome.scheduler.output.slice(-4000)).toBe(true);
    expect(outcome.worker.aliveAtEnd, outcome.worker.output.slice(-4000)).toBe(true);
    expect(outcome.scheduler.exitCode).toBe(0);
    expect(outcome.worker.exitCode).toBe(0);
    expect(outcome.scheduler.output).not.toMatch(/uncaught|unhandled/i);
  });

  it('keep the healthy DAG running: its runs after the poison succeed, none fails', () => {
    const { figures } = outcome;
    expect(figures.runsAfter.failed).toBe(0);
    expect(figures.runsAfter.success).toBeGreaterThanOrEqual(3);
    // A run every 2 s: the next one after the poison lands within a few intervals, even while the
    // hanging file holds a parse thread for its whole timeout.
    expect(figures.nextRunSucceededAfterMs).toBeLessThan(10_000);
    expect(figures.longestGapMs).toBeLessThan(10_000);
  });
});
