import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, InvalidInputError, InvalidStateError } from '../src/errors.js';
import { setDagPaused } from '../src/service/dags.js';
import { cancelBackfill, createBackfill, getBackfill, listBackfills, type BackfillSummary } from '../src/service/backfill.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { eventually, setupEngine, type TestSetup } from './helpers.js';
import { runCli } from './support/cli.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  await setup.engine.startWorker({ concurrency: 8 });
  setup.engine.startScheduler();
});
afterAll(() => setup?.close());

const actor = { name: 'tester', origin: 'test' };
const day = (n: number): Date => new Date(Date.UTC(2024, 0, n));

async function runsOf(dagId: string, from: Date, to: Date) {
  return setup.engine.db
    .selectFrom('tributary.dag_run')
    .select(['id', 'run_id', 'run_type', 'state', 'logical_date', 'data_interval_start', 'data_interval_end', 'backfill_id', 'start_date', 'end_date'])
    .where('dag_id', '=', dagId)
    .where('logical_date', '>=', from)
    .where('logical_date', '<=', to)
    .orderBy('logical_date')
    .execute();
}

async function finished(id: number, timeoutMs = 30_000): Promise<BackfillSummary> {
  return eventually(async () => {
    const b = await getBackfill(setup.engine.db, id);
    return b.state !== 'running' ? b : undefined;
  }, timeoutMs, `backfill ${id} to finish`);
}

async function tries(runPk: number): Promise<number> {
  const row = await setup.engine.db.selectFrom('tributary.task_instance').select('try_number').where('run_pk', '=', runPk).executeTakeFirstOrThrow();
  return row.try_number;
}

describe('backfill', () => {
  it('creates the missing runs, keeps existing ones (reprocess none), then reruns failed and completed ones', async () => {
    const ctx = setup.engine.context;
    const db = setup.engine.db;
    // Existing runs: 2 Jan failed, 3 Jan succeeded.
    const failed = await triggerDag(ctx, 'backfill_daily', { logicalDate: day(2), params: { fail: true } });
    expect(await waitForRun(db, failed.id, { timeoutMs: 20_000 })).toBe('failed');
    const succeeded = await triggerDag(ctx, 'backfill_daily', { logicalDate: day(3) });
    expect(await waitForRun(db, succeeded.id, { timeoutMs: 20_000 })).toBe('success');

    const dry = await createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-05', dryRun: true }, actor);
    expect(dry.backfill).toBeNull();
    expect(dry.plan.map((p) => [p.logicalDate.toISOString().slice(0, 10), p.action])).toEqual([
      ['2024-01-01', 'create'],
      ['2024-01-02', 'exists'],
      ['2024-01-03', 'exists'],
      ['2024-01-04', 'create'],
      ['2024-01-05', 'create'],
    ]);
    expect(await runsOf('backfill_daily', day(1), day(5))).toHaveLength(2);

    const none = await createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-05' }, actor);
    const done = await finished(none.backfill!.id);
    expect(done).toMatchObject({ state: 'completed', outcomes: { created: 3, exists: 2, pending: 0 } });
    let runs = await runsOf('backfill_daily', day(1), day(5));
    expect(runs.map((r) => [r.logical_date.toISOString().slice(0, 10), r.run_type, r.state])).toEqual([
      ['2024-01-01', 'backfill', 'success'],
      ['2024-01-02', 'manual', 'failed'],
      ['2024-01-03', 'manual', 'success'],
      ['2024-01-04', 'backfill', 'success'],
      ['2024-01-05', 'backfill', 'success'],
    ]);
    // Each backfill run covers its full daily interval.
    expect(runs[0]!.data_interval_end).toEqual(day(2));

    const rerunFailed = await createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-05', reprocess: 'failed' }, actor);
    expect(await finished(rerunFailed.backfill!.id)).toMatchObject({ outcomes: { cleared: 1, exists: 4 } });
    runs = await runsOf('backfill_daily', day(1), day(5));
    expect(runs).toHaveLength(5);
    expect(runs.map((r) => r.state)).toEqual(['success', 'success', 'success', 'success', 'success']);
    expect(runs[1]).toMatchObject({ run_type: 'manual', backfill_id: rerunFailed.backfill!.id });
    expect([await tries(runs[1]!.id), await tries(runs[2]!.id)]).toEqual([2, 1]);

    const rerunAll = await createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-02', to: '2024-01-03', reprocess: 'completed' }, actor);
    expect(await finished(rerunAll.backfill!.id)).toMatchObject({ outcomes: { cleared: 2 } });
    expect([await tries(runs[1]!.id), await tries(runs[2]!.id)]).toEqual([3, 2]);
    const counts = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = 'backfill_daily' GROUP BY logical_date HAVING count(*) > 1`.execute(db);
    expect(counts.rows).toEqual([]);
    const audit = await db.selectFrom('tributary.audit_log').select(['action', 'actor']).where('dag_id', '=', 'backfill_daily').execute();
    expect(audit.filter((a) => a.action === 'backfill_create')).toHaveLength(3);
    expect(audit.filter((a) => a.action === 'clear' && a.actor === 'backfill')).toHaveLength(3);
  });

  it("runs up to its own maxActiveRuns at once, whatever the DAG's, newest first when run backwards", async () => {
    const db = setup.engine.db;
    let maxRunning = 0;
    const sampler = setInterval(() => {
      void sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_run WHERE dag_id = 'backfill_daily' AND state = 'running'`
        .execute(db)
        .then((r) => (maxRunning = Math.max(maxRunning, r.rows[0]!.n)));
    }, 15);
    const created = await createBackfill(
      setup.engine.context,
      { dagId: 'backfill_daily', from: '2024-02-01', to: '2024-02-06', maxActiveRuns: 2, runBackwards: true, params: { sleepMs: 400 } },
      actor,
    );
    expect(created.backfill).toMatchObject({ maxActiveRuns: 2, runBackwards: true, state: 'running' });
    expect(await finished(created.backfill!.id)).toMatchObject({ state: 'completed', outcomes: { created: 6 } });
    clearInterval(sampler);
    // The DAG allows 1 running run; the backfill 2.
    expect(maxRunning).toBe(2);
    const runs = await runsOf('backfill_daily', day(32), day(37));
    expect(runs.every((r) => r.state === 'success' && r.run_type === 'backfill')).toBe(true);
    const byCreation = [...runs].sort((a, b) => a.id - b.id).map((r) => r.logical_date.getUTCDate());
    expect(byCreation).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('is cancellable: no new runs, runs not started fail, the running one finishes', async () => {
    const ctx = setup.engine.context;
    const created = await createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-03-01', to: '2024-03-05', maxActiveRuns: 1, params: { sleepMs: 1500 } }, actor);
    const id = created.backfill!.id;
    await expect(createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-04-01', to: '2024-04-02' }, actor)).rejects.toThrow(AlreadyExistsError);
    const first = await eventually(async () => (await runsOf('backfill_daily', day(61), day(65))).find((r) => r.state === 'running'), 10_000, 'the first run to start');
    const cancelled = await cancelBackfill(ctx, id, actor);
    expect(cancelled).toMatchObject({ state: 'cancelled', outcomes: { created: 1, cancelled: 4 } });
    await expect(cancelBackfill(ctx, id, actor)).rejects.toThrow(InvalidStateError);
    expect(await waitForRun(setup.engine.db, first.id, { timeoutMs: 20_000 })).toBe('success');
    // A few scheduler passes later there is still only that one run.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await runsOf('backfill_daily', day(61), day(65))).toHaveLength(1);
    expect((await listBackfills(setup.engine.db, { dagId: 'backfill_daily' }))[0]).toMatchObject({ id, state: 'cancelled', activeRuns: 0 });
  });

  it('never duplicates a run: catchup steps over intervals a backfill already ran', async () => {
    const db = setup.engine.db;
    const top = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    // The DAG is paused: the backfill's runs are created but wait.
    const created = await createBackfill(setup.engine.context, { dagId: 'backfill_hourly', from: new Date(top - 3 * 3_600_000), to: new Date(top - 2 * 3_600_000) }, actor);
    expect(created.dagPaused).toBe(true);
    await eventually(async () => (await runsOf('backfill_hourly', new Date(0), new Date(top))).length === 2 || undefined, 10_000, 'two backfill runs');
    await setDagPaused(db, 'backfill_hourly', false);
    const runs = await eventually(async () => {
      const rows = await runsOf('backfill_hourly', new Date(0), new Date(top));
      return rows.length === 4 && rows.every((r) => r.state === 'success') ? rows : undefined;
    }, 20_000, 'four successful runs');
    expect(runs.map((r) => [(top - r.logical_date.getTime()) / 3_600_000, r.run_type])).toEqual([
      [4, 'scheduled'],
      [3, 'backfill'],
      [2, 'backfill'],
      [1, 'scheduled'],
    ]);
    expect(await finished(created.backfill!.id)).toMatchObject({ state: 'completed' });
  });

  it('from the CLI: the command stores the backfill and exits, the scheduler carries it out; list and cancel', async () => {
    const cli = (...args: string[]) => runCli(setup.database.url, [...args, '--dags-folder', 'test/fixtures/dags']);
    const dry = await cli('backfill', 'create', 'backfill_daily', '--from', '2024-06-01', '--to', '2024-06-03', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/2024-06-01T00:00:00.000Z\s+2024-06-02T00:00:00.000Z\s+create a run/);
    expect(dry.stdout).toContain('Dry run: 3 intervals; nothing was created');
    expect(await runsOf('backfill_daily', day(153), day(155))).toHaveLength(0);

    const created = await cli('backfill', 'create', 'backfill_daily', '--from', '2024-06-01', '--to', '2024-06-03', '--max-active-runs', '3', '--json');
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { backfill: { id: number } }).backfill.id;
    expect(await finished(id)).toMatchObject({ state: 'completed', outcomes: { created: 3 } });
    const listed = await cli('backfill', 'list', '--dag', 'backfill_daily');
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+backfill_daily\\s+2024-06-01T00:00:00.000Z\\s+2024-06-03T00:00:00.000Z\\s+none\\s+3\\s+completed\\s+3/3 handled \\(3 created`));

    const again = await cli('backfill', 'create', 'backfill_daily', '--from', '2024-07-01', '--to', '2024-07-20', '--max-active-runs', '1', '--params', '{"sleepMs": 1000}');
    const againId = Number(/Backfill (\d+) created/.exec(again.stdout)?.[1]);
    const cancel = await cli('backfill', 'cancel', String(againId));
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`Backfill ${againId} cancelled: \\d+/20 handled`));
    const bad = await cli('backfill', 'create', 'backfill_daily', '--from', '2024-01-01', '--to', '2024-01-02', '--reprocess', 'some');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--reprocess: expected one of none, failed, completed');
  });

  it('refuses what it cannot do, naming the DAG or field', async () => {
    const ctx = setup.engine.context;
    await expect(createBackfill(ctx, { dagId: 'backfill_manual_only', from: '2024-01-01', to: '2024-01-02' }, actor)).rejects.toThrow(
      "DAG 'backfill_manual_only': cannot be backfilled: only a cron, preset or fixed-interval schedule has intervals to backfill",
    );
    await expect(createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-05', to: '2024-01-01' }, actor)).rejects.toThrow(InvalidInputError);
    await expect(createBackfill(ctx, { dagId: 'backfill_daily', from: 'soon', to: '2024-01-01' }, actor)).rejects.toThrow("from: expected a Date or an ISO 8601 date, got \"soon\"");
    await expect(createBackfill(ctx, { dagId: 'backfill_daily', from: '2024-01-01', to: '2024-01-02', params: { fail: 'yes' } }, actor)).rejects.toThrow('invalid params: fail must be boolean');
    await expect(createBackfill(ctx, { dagId: 'nope', from: '2024-01-01', to: '2024-01-02' }, actor)).rejects.toThrow("DAG 'nope' not found");
    // A trigger given a logical date a run already has is refused too.
    await expect(triggerDag(ctx, 'backfill_daily', { logicalDate: day(1) })).rejects.toThrow(
      "DAG 'backfill_daily': a run with id 'manual__2024-01-01T00:00:00.000Z' or logical date 2024-01-01T00:00:00.000Z already exists",
    );
  });
});
