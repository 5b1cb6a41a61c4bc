import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/service/pools.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { openTestEngine } from '../src/testing/index.js';
import { createWebApp } from '../src/web/app.js';
import type { Worker } from '../src/worker/worker.js';
import { FIXTURE_DAGS, PACKAGE_DIR, eventually, setupEngine, type TestSetup } from './helpers.js';
import { bearer, expectJson, seedUsers } from './support/web-client.js';

let setup: TestSetup;
let dir: string;
const actor = { name: 'test', origin: 'test' };

beforeAll(async () => {
  setup = await setupEngine();
  await setup.engine.parseDags();
  dir = mkdtempSync(join(tmpdir(), 'tributary-sensors-'));
});
afterAll(async () => {
  await setup?.close();
  rmSync(dir, { recursive: true, force: true });
});

const marker = (name: string): string => join(dir, name);
/** When the last recorded poke ended. */
const ledgerEnd = (rows: { end_date: Date }[]): number => Math.max(...rows.map((r) => r.end_date.getTime()));

async function instance(runPk: number, taskId: string) {
  return setup.engine.db.selectFrom('tributary.task_instance').selectAll().where('run_pk', '=', runPk).where('task_id', '=', taskId).executeTakeFirstOrThrow();
}
async function tries(tiId: number) {
  return setup.engine.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', tiId).orderBy('try_number').execute();
}
async function reschedules(tiId: number) {
  return setup.engine.db.selectFrom('tributary.task_reschedule').selectAll().where('ti_id', '=', tiId).orderBy('id').execute();
}
async function logOf(tiId: number): Promise<string[]> {
  const rows = await setup.engine.db.selectFrom('tributary.task_log').select('message').where('ti_id', '=', tiId).orderBy('id').execute();
  return rows.map((r) => r.message);
}

/** Run `body` with a worker of the suite's engine, stopped afterwards. */
async function withWorker<T>(concurrency: number, body: (worker: Worker) => Promise<T>): Promise<T> {
  const worker = await setup.engine.startWorker({ concurrency });
  try {
    return await body(worker);
  } finally {
    await setup.engine.stopWorker(worker);
  }
}

describe('sensors in reschedule mode', () => {
  beforeAll(() => void setup.engine.startScheduler());

  it('free their worker slot and pool slot between pokes: a worker of concurrency 1 runs other tasks meanwhile', async () => {
    await createPool(setup.engine.context, { name: 'one_slot', slots: 1 }, actor);
    // The only worker, with one slot.
    const run = await withWorker(1, async () => {
      const created = await triggerDag(setup.engine.context, 'sensor_frees_slot', { params: { marker: marker('frees') } });
      expect(await waitForRun(setup.engine.db, created.id, { timeoutMs: 30_000 })).toBe('success');
      return created;
    });
    const wait = await instance(run.id, 'wait');
    const produce = await instance(run.id, 'produce');
    // One try across its reschedules, as in Airflow.
    expect(wait).toMatchObject({ state: 'success', try_number: 1, resuming: false });
    const waitTries = await tries(wait.id);
    expect(waitTries.map((t) => [t.try_number, t.state])).toEqual([[1, 'success']]);
    const ledger = await reschedules(wait.id);
    expect(ledger.length).toBeGreaterThanOrEqual(1);
    expect(ledger.every((r) => r.try_number === 1)).toBe(true);
    // The producer (lower priority, same one-slot pool, one worker slot) ran while the sensor waited:
    // after its first poke ended and before its last one began.
    const [produced] = await tries(produce.id);
    expect(produced!.start_date.getTime()).toBeGreaterThanOrEqual(ledger[0]!.end_date.getTime());
    expect(produced!.end_date!.getTime()).toBeLessThanOrEqual(wait.end_date!.getTime());
    const log = await logOf(wait.id);
    expect(log.some((l) => l.includes('Poke 1: condition not met; rescheduled'))).toBe(true);
    expect(log.some((l) => /Resuming the sensor after \d+ poke/.test(l))).toBe(true);
  });

  it('fail at their timeout without retrying, or are skipped with softFail; the timeout spans reschedules', async () => {
    const run = await triggerDag(setup.engine.context, 'sensor_timeouts');
    await withWorker(6, async () => expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('failed'));
    const hard = await instance(run.id, 'hard');
    expect(hard).toMatchObject({ state: 'failed', try_number: 1, max_tries: 4 });
    const [hardTry] = await tries(hard.id);
    expect(hardTry).toMatchObject({ state: 'failed', error: expect.objectContaining({ name: 'SensorTimeoutError', code: 'SENSOR_TIMEOUT' }) });
    const hardLedger = await reschedules(hard.id);
    expect(hardLedger.length).toBeGreaterThanOrEqual(2);
    // Measured from the first poke of the try, whichever claim made it.
    expect(hardTry!.end_date!.getTime() - hardLedger[0]!.start_date.getTime()).toBeGreaterThanOrEqual(600);
    expect(hardTry!.error!.message).toContain(`(${hardLedger.length + 1} poke(s))`);

    const soft = await instance(run.id, 'soft');
    expect(soft).toMatchObject({ state: 'skipped', try_number: 1 });
    expect((await tries(soft.id))[0]).toMatchObject({ state: 'skipped', error: expect.objectContaining({ message: expect.stringContaining('softFail') }) });
    expect((await instance(run.id, 'after_soft')).state).toBe('skipped');

    // Poke mode: one try, no reschedules, the same timeout error.
    const poked = await instance(run.id, 'poked');
    expect(poked).toMatchObject({ state: 'failed', try_number: 1 });
    expect(await reschedules(poked.id)).toHaveLength(0);
    expect((await tries(poked.id))[0]!.error).toMatchObject({ name: 'SensorTimeoutError' });
    expect((await logOf(poked.id)).filter((l) => /^Poke \d+: condition not met; next poke in/.test(l)).length).toBeGreaterThanOrEqual(2);

    // executionTimeout limits each try and is retried; the sensor's own timeout is not reached.
    const perTry = await instance(run.id, 'per_try');
    expect(perTry).toMatchObject({ state: 'failed', try_number: 2 });
    expect((await tries(perTry.id)).map((t) => t.error?.name)).toEqual(['TaskTimeoutError', 'TaskTimeoutError']);
  });

  it('retry as a new try when a poke throws', async () => {
    const run = await triggerDag(setup.engine.context, 'sensor_throws', { params: { marker: marker('throws') } });
    await withWorker(2, async () => expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success'));
    const flaky = await instance(run.id, 'flaky');
    expect(flaky).toMatchObject({ state: 'success', try_number: 2 });
    const history = await tries(flaky.id);
    expect(history.map((t) => [t.try_number, t.state, t.error?.message ?? null])).toEqual([
      [1, 'failed', 'source unreachable'],
      [2, 'success', null],
    ]);
    expect((await reschedules(flaky.id)).map((r) => r.try_number)).toEqual([1]);
    const result = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', run.id).where('task_id', '=', 'flaky').executeTakeFirstOrThrow();
    expect(result.value).toBe(2);
  });

  it('count their timeout from the first try when retried, as Airflow does', async () => {
    const run = await triggerDag(setup.engine.context, 'sensor_retry_timeout', { params: { marker: marker('retry-timeout') } });
    await withWorker(2, async () => expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('failed'));
    const outlasted = await instance(run.id, 'outlasted');
    expect(outlasted).toMatchObject({ state: 'failed', try_number: 2 });
    const [first, second] = await tries(outlasted.id);
    expect(first).toMatchObject({ state: 'failed', error: expect.objectContaining({ message: 'source unreachable' }) });
    expect(second).toMatchObject({ state: 'failed', error: expect.objectContaining({ name: 'SensorTimeoutError' }) });
    const ledger = await reschedules(outlasted.id);
    // Timed out 1.5 s after try 1's first poke; a fresh timeout would have given try 2 1.5 s of its own.
    expect(second!.end_date!.getTime() - ledger[0]!.start_date.getTime()).toBeGreaterThanOrEqual(1500);
    expect(second!.end_date!.getTime() - second!.start_date!.getTime()).toBeLessThan(1500);
    expect((await logOf(outlasted.id)).some((l) => /^Retrying the sensor \d+ ms into its 1500 ms timeout/.test(l))).toBe(true);
  });

  it('are handed to another worker, in the same try, when their worker shuts down mid-poke', async () => {
    const stopping = await setup.engine.startWorker({ concurrency: 1, shutdownGraceMs: 50 });
    const run = await triggerDag(setup.engine.context, 'sensor_shutdown', { params: { marker: marker('shutdown') } });
    await eventually(async () => existsSync(marker('shutdown')), 15_000, 'the first poke to start');
    await setup.engine.stopWorker(stopping);
    const waiting = await instance(run.id, 'wait');
    expect(waiting).toMatchObject({ state: expect.stringMatching(/^(up_for_reschedule|scheduled|queued)$/), try_number: 1 });
    await withWorker(1, async () => expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success'));
    const done = await instance(run.id, 'wait');
    expect(done).toMatchObject({ state: 'success', try_number: 1, max_tries: 1 });
    expect((await tries(done.id)).map((t) => t.state)).toEqual(['success']);
    expect((await logOf(done.id)).some((l) => l.includes('The worker is shutting down: rescheduling the sensor'))).toBe(true);
  });
});

describe('sensors in poke mode', () => {
  it('keep one try running between pokes and return the value of the poke that succeeded', async () => {
    await withWorker(2, async () => {
      const run = await triggerDag(setup.engine.context, 'sensor_poke', { params: { marker: marker('poke') } });
      const ti = await eventually(async () => {
        const current = await instance(run.id, 'wait');
        const log = await logOf(current.id);
        return log.some((l) => l.startsWith('Poke 2: condition not met')) ? current : undefined;
      }, 15_000, 'two pokes');
      // Between pokes the try is still running on its worker: no reschedule, no second try.
      expect(ti).toMatchObject({ state: 'running', try_number: 1 });
      writeFileSync(marker('poke'), 'ready');
      expect(await waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 })).toBe('success');
      expect(await reschedules(ti.id)).toHaveLength(0);
      expect((await tries(ti.id)).map((t) => t.state)).toEqual(['success']);
      const after = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', run.id).where('task_id', '=', 'after').executeTakeFirstOrThrow();
      expect(after.value).toBe('got ready');
    });
  });
});

// Last: it closes the suite's engine.
describe('a rescheduled sensor across a restart of every process', () => {
  it('continues the same try on the new processes, its timeout counted from the first poke before the restart', async () => {
    const first = await setup.engine.startWorker({ concurrency: 2 });
    const run = await triggerDag(setup.engine.context, 'sensor_restart', { params: { marker: marker('restart') } });
    const ok = await eventually(async () => {
      const ti = await instance(run.id, 'wait_ok');
      return (await reschedules(ti.id)).length >= 2 ? ti : undefined;
    }, 15_000, 'two reschedules before the restart');
    const forever = await instance(run.id, 'wait_forever');
    // Every process of the first engine goes away: its workers, scheduler and retry timers.
    await setup.engine.stopWorker(first);
    await setup.engine.close();
    const stoppedAt = new Date();

    const second = await openTestEngine({ projectDir: PACKAGE_DIR, dagsFolders: [FIXTURE_DAGS], databaseUrl: setup.database.url });
    try {
      // Nothing runs yet: both sensors wait up_for_reschedule, as the REST API and /metrics show.
      const app = createWebApp(second, { metricsCacheMs: 0 });
      const { viewer } = await seedUsers(second);
      const detail = await expectJson<{ state: string; tryNumber: number; nextRetryAt: string }>(
        bearer(app, viewer.token, 'GET', `/api/v1/dags/sensor_restart/runs/${encodeURIComponent(run.run_id)}/tasks/wait_forever`),
      );
      expect(detail).toMatchObject({ state: 'up_for_reschedule', tryNumber: 1 });
      expect(new Date(detail.nextRetryAt).getTime()).toBeGreaterThan(ledgerEnd(await second.db.selectFrom('tributary.task_reschedule').selectAll().where('ti_id', '=', forever.id).execute()));
      const tries = await expectJson<{ tries: { state: string }[] }>(bearer(app, viewer.token, 'GET', `/api/v1/dags/sensor_restart/runs/${encodeURIComponent(run.run_id)}/tasks/wait_forever/tries`));
      expect(tries.tries.map((t) => t.state)).toEqual(['up_for_reschedule']);
      expect(await (await app.request('/metrics')).text()).toMatch(/tributary_task_instances\{state="up_for_reschedule"\} 2\n/);

      second.startScheduler();
      await second.startWorker({ concurrency: 2 });
      await eventually(async () => {
        const rows = await second.db.selectFrom('tributary.task_reschedule').select('id').where('ti_id', '=', ok.id).where('start_date', '>', stoppedAt).execute();
        return rows.length > 0;
      }, 15_000, 'a poke after the restart');
      writeFileSync(marker('restart'), 'ready');
      expect(await waitForRun(second.db, run.id, { timeoutMs: 30_000 })).toBe('failed');
      const okAfter = await second.db.selectFrom('tributary.task_instance').selectAll().where('id', '=', ok.id).executeTakeFirstOrThrow();
      expect(okAfter).toMatchObject({ state: 'success', try_number: 1 });
      const okTries = await second.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', ok.id).execute();
      expect(okTries.map((t) => [t.try_number, t.state])).toEqual([[1, 'success']]);

      const foreverAfter = await second.db.selectFrom('tributary.task_instance').selectAll().where('id', '=', forever.id).executeTakeFirstOrThrow();
      expect(foreverAfter).toMatchObject({ state: 'failed', try_number: 1 });
      const ledger = await second.db.selectFrom('tributary.task_reschedule').selectAll().where('ti_id', '=', forever.id).orderBy('id').execute();
      // Poked before and after the restart.
      expect(ledger.some((r) => r.end_date < stoppedAt)).toBe(true);
      expect(ledger.some((r) => r.start_date > stoppedAt)).toBe(true);
      const [failedTry] = await second.db.selectFrom('tributary.task_try').selectAll().where('ti_id', '=', forever.id).execute();
      // The pokes before the restart count: the timeout error names every poke of the try.
      expect(failedTry!.error).toMatchObject({ name: 'SensorTimeoutError', message: expect.stringContaining(`(${ledger.length + 1} poke(s))`) });
      expect(failedTry!.end_date!.getTime() - ledger[0]!.start_date.getTime()).toBeGreaterThanOrEqual(6_000);
    } finally {
      await second.close();
    }
  });
});
