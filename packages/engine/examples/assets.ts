import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dag } from '@tributary/engine';

/**
 * Data-aware scheduling: `example_assets_producer` updates two assets (its tasks list them in
 * `outlets`); `example_assets_consumer` is scheduled on both and runs once each has been updated
 * since its last run, seeing the events that triggered it. `example_assets_either` runs on either.
 *
 * Try it: pnpm tributary dags trigger example_assets_producer, with a scheduler running
 * (pnpm tributary standalone), then pnpm tributary assets events. Or record an event by hand:
 * pnpm tributary assets create-event example://listings --extra '{"rows": 3}'
 *
 * An asset URI is a name: Tributary never reads it. Name what the task writes (`s3://bucket/key`,
 * `postgres://db/schema/table`); these examples write files under the temporary directory.
 */
const DIR = join(tmpdir(), 'tributary-example');
const LISTINGS = 'example://listings';
const PRICES = 'example://prices';

const producer = dag({ id: 'example_assets_producer', description: 'Writes listings and prices', tags: ['example'] });
producer.task('write_listings', { outlets: [LISTINGS] }, async ({ outletEvents, log }) => {
  const listings = [{ id: 1, city: 'Austin' }, { id: 2, city: 'Boston' }];
  await mkdir(DIR, { recursive: true });
  await writeFile(join(DIR, 'listings.json'), JSON.stringify(listings));
  // Attached to the asset event: consumers read it in ctx.triggeringAssetEvents.
  outletEvents.get(LISTINGS).extra = { rows: listings.length };
  log.info(`wrote ${listings.length} listings`);
  return listings.length;
});
producer.task('write_prices', { outlets: [PRICES] }, async () => {
  await mkdir(DIR, { recursive: true });
  await writeFile(join(DIR, 'prices.json'), JSON.stringify({ 1: 450_000, 2: 820_000 }));
});

const consumer = dag({
  id: 'example_assets_consumer',
  description: 'Scores listings once both listings and prices were updated',
  schedule: { assets: [LISTINGS, PRICES] },
  tags: ['example'],
});
consumer.task('score', async ({ triggeringAssetEvents, runType, log }) => {
  // In an asset-triggered run, the events that triggered it; `dags test` runs have none.
  const rows = triggeringAssetEvents[LISTINGS]?.at(-1)?.extra.rows;
  log.info({ runType, rows: rows ?? 'unknown' }, 'scoring');
  const listings = JSON.parse(await readFile(join(DIR, 'listings.json'), 'utf8').catch(() => '[]')) as unknown[];
  return { scored: listings.length };
});

/** Airflow's `listings | prices`: a run whenever either is updated. */
const either = dag({ id: 'example_assets_either', schedule: { assets: { any: [LISTINGS, PRICES] } }, tags: ['example'] });
either.task('refresh_cache', ({ triggeringAssetEvents }) => Object.keys(triggeringAssetEvents));

export { consumer, either, producer };
