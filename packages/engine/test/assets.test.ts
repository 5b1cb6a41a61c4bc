import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../src/engine.js';
import { createAssetTriggeredRuns } from '../src/scheduler/asset-runs.js';
import { pauseDag } from '../src/service/actions.js';
import { createAssetEvent, listAssetEvents, listAssets } from '../src/service/assets.js';
import { triggerDag, waitForRun } from '../src/service/runs.js';
import { openTestEngine } from '../src/testing/index.js';
import { PACKAGE_DIR, eventually, setupEngine, type TestSetup } from './helpers.js';
import { runCli } from './support/cli.js';

const FOLDER = join(PACKAGE_DIR, 'test/fixtures/data-aware');
const actor = { name: 'test', origin: 'test' };
const LISTINGS = 's3://lake/listings';
const PRICES = 's3://lake/prices';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine({ dagsFolders: [FOLDER] });
  await setup.engine.parseDags();
  await setup.engine.startWorker();
});
afterAll(() => setup?.close());

async function runProducer(dagId: string, params?: Record<string, unknown>): Promise<string> {
  const run = await triggerDag(setup.engine.context, dagId, { params });
  return waitForRun(setup.engine.db, run.id, { timeoutMs: 30_000 });
}

async function assetRuns(dagId: string): Promise<{ id: number; run_id: string; state: string }[]> {
  const rows = await sql<{ id: number; run_id: string; state: string }>`
    SELECT id, run_id, state FROM tributary.dag_run WHERE dag_id = ${dagId} AND run_type = 'asset_triggered' ORDER BY id`.execute(setup.engine.db);
  return rows.rows;
}

async function queued(dagId: string): Promise<string[]> {
  const rows = await sql<{ uri: string }>`
    SELECT a.uri FROM tributary.asset_dag_queue q JOIN tributary.asset a ON a.id = q.asset_id WHERE q.dag_id = ${dagId} ORDER BY a.uri`.execute(setup.engine.db);
  return rows.rows.map((r) => r.uri);
}

describe('data-aware scheduling', () => {
  it('registers the assets DAGs name and which DAGs schedule on them when the files are parsed', async () => {
    const assets = await listAssets(setup.engine.db);
    expect(assets.map((a) => a.uri)).toEqual(['s3://lake/archive', LISTINGS, PRICES]);
    expect(assets.find((a) => a.uri === LISTINGS)).toMatchObject({ producers: ['produce_listings.write'], consumers: ['either_update', 'score_listings'], events: 0 });
    expect(assets.find((a) => a.uri === PRICES)).toMatchObject({ producers: ['produce_prices.skipped_write', 'produce_prices.write'], consumers: ['either_update', 'score_listings'] });
  });

  it('runs an asset-scheduled DAG once every asset it names was updated, not before, with the events that triggered it', async () => {
    expect(await runProducer('produce_listings', { rows: 7 })).toBe('success');
    expect(await queued('score_listings')).toEqual([LISTINGS]);
    // `either_update` needs listings only; `score_listings` also waits for prices.
    expect(await createAssetTriggeredRuns(setup.engine.context)).toBe(1);
    expect(await assetRuns('score_listings')).toEqual([]);
    expect(await assetRuns('either_update')).toHaveLength(1);

    expect(await runProducer('produce_prices')).toBe('success');
    expect(await createAssetTriggeredRuns(setup.engine.context)).toBe(1);
    const [run] = await assetRuns('score_listings');
    expect(run).toBeDefined();
    expect(await waitForRun(setup.engine.db, run!.id, { timeoutMs: 30_000 })).toBe('success');
    expect(await queued('score_listings')).toEqual([]);
    // Nothing new: no second run.
    expect(await createAssetTriggeredRuns(setup.engine.context)).toBe(0);

    const result = await sql<{ value: Record<string, unknown> }>`
      SELECT value FROM tributary.xcom WHERE run_pk = ${run!.id} AND task_id = 'read' AND key = 'return_value'`.execute(setup.engine.db);
    const value = result.rows[0]!.value as { events: Record<string, { mapIndex: number }[]> };
    // Events come oldest first; the two mapped instances finish in either order.
    value.events[PRICES]!.sort((a, b) => a.mapIndex - b.mapIndex);
    expect(value).toEqual({
      runType: 'asset_triggered',
      intervalOrdered: true,
      events: {
        [LISTINGS]: [{ extra: { rows: 7 }, dagId: 'produce_listings', taskId: 'write', mapIndex: -1 }],
        // One event per successful mapped instance; the task that skipped itself recorded none.
        [PRICES]: [
          { extra: {}, dagId: 'produce_prices', taskId: 'write', mapIndex: 0 },
          { extra: {}, dagId: 'produce_prices', taskId: 'write', mapIndex: 1 },
        ],
      },
    });
    // Both price events were consumed by this run; either_update still has prices queued (it waits for the archive too).
    const events = await listAssetEvents(setup.engine.db, { uri: PRICES });
    expect(events.map((e) => e.consumedBy)).toEqual([[`score_listings/${run!.run_id}`], [`score_listings/${run!.run_id}`]]);
    expect(await queued('either_update')).toEqual([PRICES]);
  });

  it('records no event for a failed try', async () => {
    const before = (await listAssetEvents(setup.engine.db, { uri: LISTINGS })).length;
    expect(await runProducer('produce_listings', { fail: true })).toBe('failed');
    expect(await listAssetEvents(setup.engine.db, { uri: LISTINGS })).toHaveLength(before);
    expect(await queued('score_listings')).not.toContain(LISTINGS);
  });

  it('keeps the queue of a paused DAG and runs it once unpaused', async () => {
    await pauseDag(setup.engine.context, 'score_listings', true, actor);
    const before = (await assetRuns('score_listings')).length;
    await createAssetEvent(setup.engine.db, { uri: LISTINGS, extra: { by: 'hand' } }, actor);
    await createAssetEvent(setup.engine.db, { uri: PRICES }, actor);
    await createAssetTriggeredRuns(setup.engine.context);
    expect(await assetRuns('score_listings')).toHaveLength(before);
    expect(await queued('score_listings')).toEqual([LISTINGS, PRICES]);
    await pauseDag(setup.engine.context, 'score_listings', false, actor);
    await createAssetTriggeredRuns(setup.engine.context);
    const runs = await assetRuns('score_listings');
    expect(runs).toHaveLength(before + 1);
    await waitForRun(setup.engine.db, runs.at(-1)!.id, { timeoutMs: 30_000 });
  });

  it('creates one run per set of events with two schedulers racing, each event consumed once', async () => {
    const second: Tributary = await openTestEngine({ databaseUrl: setup.database.url, projectDir: PACKAGE_DIR, dagsFolders: [FOLDER] });
    try {
      const before = (await assetRuns('score_listings')).length;
      const rounds = 6;
      for (let round = 0; round < rounds; round++) {
        await createAssetEvent(setup.engine.db, { uri: LISTINGS, extra: { round } }, actor);
        await createAssetEvent(setup.engine.db, { uri: PRICES, extra: { round } }, actor);
        await Promise.all([createAssetTriggeredRuns(setup.engine.context), createAssetTriggeredRuns(second.context), createAssetTriggeredRuns(second.context)]);
      }
      expect(await assetRuns('score_listings')).toHaveLength(before + rounds);
      const twice = await sql<{ event_id: number }>`
        SELECT l.event_id FROM tributary.dag_run_asset_event l JOIN tributary.dag_run r ON r.id = l.run_pk
         WHERE r.dag_id = 'score_listings' GROUP BY l.event_id HAVING count(*) > 1`.execute(setup.engine.db);
      expect(twice.rows).toEqual([]);
      const perRun = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM tributary.dag_run_asset_event l JOIN tributary.dag_run r ON r.id = l.run_pk
         WHERE r.dag_id = 'score_listings' AND r.id > ${(await assetRuns('score_listings'))[before - 1]!.id} GROUP BY r.id`.execute(setup.engine.db);
      expect(perRun.rows.map((r) => r.n)).toEqual(Array(rounds).fill(2));
      await eventually(async () => (await assetRuns('score_listings')).every((r) => r.state === 'success'), 30_000, 'the asset-triggered runs to finish');
    } finally {
      await second.close();
    }
  });

  it('lists assets and events, and creates events by hand from the CLI', async () => {
    const created = await runCli(setup.database.url, ['assets', 'create-event', LISTINGS, '--extra', '{"source":"cli"}', '--dags-folder', FOLDER]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/Asset event \d+ created for s3:\/\/lake\/listings; queued for either_update, score_listings/);
    const events = await runCli(setup.database.url, ['assets', 'events', LISTINGS, '--limit', '1', '--json']);
    expect(events.code, events.stderr).toBe(0);
    expect(JSON.parse(events.stdout)).toMatchObject([{ uri: LISTINGS, extra: { source: 'cli' }, source: { dagId: null } }]);
    const listed = await runCli(setup.database.url, ['assets', 'list', '--dags-folder', FOLDER]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/s3:\/\/lake\/listings\s+produce_listings\.write\s+either_update, score_listings/);
    const unknown = await runCli(setup.database.url, ['assets', 'create-event', 's3://lake/listing', '--dags-folder', FOLDER]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: asset 's3://lake/listing' not found; did you mean 's3://lake/listings'?");
  });
});
