import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParamsValidationError } from '../src/errors.js';
import { RunExistsError, createRun } from '../src/scheduler/run-lifecycle.js';
import { triggerDag } from '../src/service/runs.js';
import { setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

// Triggers arriving at once are created in one transaction: each still gets its own outcome.
const folder = tempDagFolder({
  'burst.ts': `import { dag } from '@tributary/engine';
const d = dag({ id: 'burst', maxActiveRuns: 3, params: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } } } });
const a = d.task('a', () => 1);
d.task('b', { upstream: [a] }, () => 2);
export default d;
`,
});

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [folder.dir] });
  await setup.engine.parseDags();
});
afterAll(async () => {
  await setup?.close();
  folder.remove();
});

describe('creating runs in a burst', () => {
  it('gives each trigger its own outcome: maxActiveRuns held, duplicates and bad params refused, the rest created whole', async () => {
    const ctx = setup.engine.context;
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => triggerDag(ctx, 'burst', { runId: `r${i}`, params: { n: i } })),
      triggerDag(ctx, 'burst', { runId: 'r0' }), // the same run id as another trigger of the burst
      triggerDag(ctx, 'burst', { runId: 'bad', params: { n: -1 } }),
      triggerDag(ctx, 'nope'),
    ]);
    const created = outcomes.slice(0, 8);
    expect(created.every((o) => o.status === 'fulfilled')).toBe(true);
    const [duplicate, bad, unknown] = outcomes.slice(8).map((o) => (o.status === 'rejected' ? (o.reason as Error) : null));
    expect(duplicate).toBeInstanceOf(RunExistsError);
    expect(bad).toBeInstanceOf(ParamsValidationError);
    expect(unknown?.message).toContain("DAG 'nope'");

    const runs = await sql<{ run_id: string; state: string; tasks: number; conf: { n?: number } }>`
      SELECT r.run_id, r.state, r.conf, (SELECT count(*)::int FROM tributary.task_instance t WHERE t.run_pk = r.id) AS tasks
        FROM tributary.dag_run r WHERE r.dag_id = 'burst' ORDER BY r.id`.execute(setup.engine.db);
    expect(runs.rows.map((r) => r.run_id).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `r${i}`).sort());
    expect(runs.rows.filter((r) => r.state === 'running')).toHaveLength(3);
    expect(runs.rows.filter((r) => r.state === 'queued')).toHaveLength(5);
    expect(runs.rows.every((r) => r.tasks === 2)).toBe(true);
    expect(runs.rows.find((r) => r.run_id === 'r5')?.conf).toEqual({ n: 5 });
    // The running runs' root tasks were queued in the same transaction.
    const queued = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tributary.task_instance t JOIN tributary.dag_run r ON r.id = t.run_pk
       WHERE r.dag_id = 'burst' AND t.task_id = 'a' AND t.state = 'queued'`.execute(setup.engine.db);
    expect(queued.rows[0]!.n).toBe(3);
  });

  it('refuses a chosen logical date taken by a run, or by an earlier run of the same burst', async () => {
    const ctx = setup.engine.context;
    const at = new Date('2024-03-01T00:00:00Z');
    const interval = { start: at, end: at };
    const outcomes = await Promise.allSettled([
      createRun(ctx, { dagId: 'burst', runType: 'manual', runId: 'chosen_1', logicalDate: at, dataInterval: interval }),
      createRun(ctx, { dagId: 'burst', runType: 'manual', runId: 'chosen_2', logicalDate: at, dataInterval: interval }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    await expect(createRun(ctx, { dagId: 'burst', runType: 'manual', runId: 'chosen_3', logicalDate: at, dataInterval: interval })).rejects.toBeInstanceOf(
      RunExistsError,
    );
  });
});
