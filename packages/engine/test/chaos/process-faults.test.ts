import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/db/embedded.js';
import { createTestDatabase, prepareTemplateDatabase } from '../../src/testing/index.js';
import { PACKAGE_DIR } from '../helpers.js';
import { postgresRestarts, schedulerKills, twoSchedulersThreeWorkers, workerKills } from './process-faults.js';
import { recordFigures } from './report.js';
import type { ScenarioFigures } from './scenario.js';

// The short form of the chaos suite (the soak runner, `pnpm chaos --duration 30m`, runs the same
// scenarios for longer). Real scheduler and worker processes, real PostgreSQL, kill -9.
const LOG_DIR = join(PACKAGE_DIR, '../../artifacts/chaos/logs');
const results: ScenarioFigures[] = [];

afterAll(() => recordFigures(results, 'short form (pnpm test)', 'process-faults'));

async function onFreshDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const database = await createTestDatabase(inject('postgresServerUrl'), inject('templateDatabase'));
  try {
    return await work(database.url);
  } finally {
    await database.drop();
  }
}

function expectClean(figures: ScenarioFigures): void {
  results.push(figures);
  expect(figures.problems, JSON.stringify(figures, null, 2)).toEqual([]);
}

describe('chaos: process faults', () => {
  it('kill -9 of workers mid-run: the run completes, killed tries fail by heartbeat timeout and are retried, nothing runs twice at once, no result lost', async () => {
    const figures = await onFreshDatabase((databaseUrl) => workerKills({ databaseUrl, logDir: join(LOG_DIR, 'worker-kills'), kills: 3 }));
    expectClean(figures);
    expect(figures.faults).toBe(3);
    expect(figures.taskInstances).toBe(200);
    // A dead worker is noticed within the heartbeat timeout (6 s here) plus a scheduler pass.
    expect(figures.maxRecoveryMs).toBeLessThan(20_000);
  }, 300_000);

  it('kill -9 of the scheduler mid-run: the runs complete with no duplicate task instances', async () => {
    const figures = await onFreshDatabase((databaseUrl) => schedulerKills({ databaseUrl, logDir: join(LOG_DIR, 'scheduler-kills'), kills: 2 }));
    expectClean(figures);
    // Two kills are planned; on a slow machine the runs may finish after the first.
    expect(figures.faults).toBeGreaterThanOrEqual(1);
    expect(figures.taskInstances).toBe(200 + 62);
  }, 300_000);

  it('two schedulers and three workers over 100 catchup runs: no duplicate run, no task instance executing in two places', async () => {
    const figures = await onFreshDatabase((databaseUrl) => twoSchedulersThreeWorkers({ databaseUrl, logDir: join(LOG_DIR, 'two-schedulers'), runs: 100 }));
    expectClean(figures);
    expect(figures.runs).toBe(100);
    expect(figures.taskInstances).toBe(500);
  }, 300_000);

  it('PostgreSQL restarted mid-run (fast, then immediate): every process reconnects and the run finishes without a crash', async () => {
    // A server of its own: stopping the shared one would break every other test file.
    const dir = mkdtempSync(join(tmpdir(), 'tributary-chaos-pg-'));
    chmodSync(dir, 0o755);
    let server: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database: 'postgres' });
    try {
      await prepareTemplateDatabase(server.url, 'chaos_template');
      const databaseUrl = (await createTestDatabase(server.url, 'chaos_template')).url;
      const figures = await postgresRestarts({
        databaseUrl,
        logDir: join(LOG_DIR, 'postgres-restarts'),
        restarts: 2,
        server: () => server,
        restartServer: async () => (server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), database: 'postgres', port: server.port })),
      });
      expectClean(figures);
      expect(figures.faults).toBe(2);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
