import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScrapeFailedError } from '../src/errors.js';
import type { ScrapeResult } from '../src/operators/results.js';
import { demoFaults, type ListingFault } from '../src/site/faults.js';
import { kingCountyHouses, parcelAddress } from '../src/site/houses.js';
import { startListingsSite, type ListingsSite } from '../src/site/server.js';
import type { ScrapeMetrics } from '../src/store/metrics.js';
import { arrivals, countyFolder, runOperator, setupDiscovery, type DiscoverySetup } from './support.js';

// 1,100 real King County houses on 55 list pages; one listing in 50 is published with a data error.
const LISTINGS = 1_100;
const houses = kingCountyHouses().slice(0, LISTINGS);
const faults: ListingFault[] = demoFaults(houses, 50);
const faulty = new Set(faults.map((f) => f.id));

const fast = (config: Record<string, any>): void => {
  config.limits = { ...config.limits, maxPagesPerRun: 5_000, requestsPerSecond: 500, maxConcurrency: 8, retryBackoffMs: 50, maxRetryBackoffMs: 200 };
  config.validation = { ...config.validation, minListings: 1_000 };
};

describe('scraping the static listings site with CheerioCrawler', () => {
  let setup: DiscoverySetup;
  let site: ListingsSite;
  let folder: ReturnType<typeof countyFolder>;
  let first: ScrapeResult;

  beforeAll(async () => {
    setup = await setupDiscovery();
    site = await startListingsSite({ limit: LISTINGS, pageSize: 20, faults });
    folder = countyFolder();
    folder.write('king_static', 'king_wa', fast);
    first = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'king_static', configDir: folder.relative, baseUrl: `${site.url}/static/` });
  });
  afterAll(async () => {
    await site?.close();
    folder?.remove();
    await setup?.close();
  });

  it(`reads all ${LISTINGS} listings over ${LISTINGS / 20} list pages, following pagination to the last page`, async () => {
    expect(first).toMatchObject({ renderer: 'static', pagesFetched: 55 + LISTINGS, listingsFound: LISTINGS, failedPages: 0, capped: false, skippedByRobots: 0 });
    const lists = site.requests.filter((r) => r.kind === 'list').map((r) => r.path);
    expect(lists).toEqual(Array.from({ length: 55 }, (_, i) => `/static/listings?page=${i + 1}`));
    const details = site.requests.filter((r) => r.kind === 'detail').map((r) => r.path);
    expect(new Set(details)).toEqual(new Set(houses.map((h) => `/static/listings/${h.id}`)));
    expect(details).toHaveLength(LISTINGS);
  });

  it('stores each valid listing once in prospect_queue with the values of the source data', async () => {
    expect(first).toMatchObject({ valid: LISTINGS - faults.length, rejected: faults.length, inserted: LISTINGS - faults.length, seenAgain: 0 });
    const { n } = await setup.db.selectFrom('discovery.prospect_queue').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    expect(n).toBe(LISTINGS - faults.length);
    const house = houses.find((h) => !faulty.has(h.id) && h.yearRenovated !== null)!;
    const row = await setup.db
      .selectFrom('discovery.prospect_queue')
      .select(['source', 'county', 'address', 'city', 'state', 'zip', sql<number>`price::float8`.as('price'), 'beds', sql<number>`baths::float8`.as('baths'), 'living_area_sqft', sql<number>`lot_size_sqft::float8`.as('lot'), 'year_built', 'latitude', 'longitude', sql<string>`listed_on::text`.as('listed_on'), 'listing_url', 'status', 'raw'])
      .where('source_id', '=', house.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      source: 'kc-homes',
      county: 'king_wa',
      address: parcelAddress(house.id),
      city: house.city,
      state: 'WA',
      zip: house.zip,
      price: house.price,
      beds: house.bedrooms,
      baths: house.bathrooms,
      living_area_sqft: house.livingAreaSqft,
      lot: house.lotSizeSqft,
      year_built: house.yearBuilt,
      latitude: house.latitude,
      longitude: house.longitude,
      listed_on: house.listedOn,
      listing_url: `${site.url}/static/listings/${house.id}`,
      status: 'new',
    });
    expect(row.raw).toMatchObject({ extra: { yearRenovated: house.yearRenovated, waterfront: house.waterfront, grade: house.grade, condition: house.condition } });
  });

  it('stores malformed and missing fields as rejected listings with the reasons, never dropping them', async () => {
    const rows = await setup.db.selectFrom('discovery.rejected_listing').select(['source_id', 'listing_url', 'reasons', 'raw', 'times_rejected']).execute();
    expect(rows.map((r) => r.source_id).sort()).toEqual([...faulty].sort());
    const reasonsOf = (id: string) => rows.find((r) => r.source_id === id)!.reasons;
    const byField = (field: string, value: string | null) => faults.find((f) => f.field === field && f.value === value)!.id;
    expect(reasonsOf(byField('price', null))).toEqual([{ field: 'price', message: 'missing' }]);
    expect(reasonsOf(byField('price', 'Call for price'))).toEqual([{ field: 'price', message: 'expected a price in dollars as a number, got "Call for price"' }]);
    expect(reasonsOf(byField('zip', '98-1OO'))).toEqual([{ field: 'zip', message: 'expected a 5-digit ZIP code, got "98-1OO"' }]);
    expect(reasonsOf(byField('address', null))).toEqual([{ field: 'address', message: 'missing' }]);
    expect(reasonsOf(byField('bedrooms', 'three'))).toEqual([{ field: 'beds', message: 'expected bedrooms as a number, got "three"' }]);
    expect(reasonsOf(byField('yearBuilt', '19O5'))).toEqual([{ field: 'yearBuilt', message: 'expected a year built of at least 1700, got 19' }]);
    const missingPrice = rows.find((r) => r.source_id === byField('price', null))!;
    expect(missingPrice.listing_url).toBe(`${site.url}/static/listings/${missingPrice.source_id}`);
    expect(missingPrice.raw).toMatchObject({ fields: { price: null, sourceId: missingPrice.source_id } });
  });

  it('measures the scrape: counts, completeness per field, duplicates and rejections by field', async () => {
    const metrics = await runOperator<ScrapeMetrics>(setup.engine, 'validateScrape', { county: 'king_static', configDir: folder.relative }, { upstream: { scrape: first } });
    expect(metrics).toMatchObject({
      scrapeId: first.scrapeId,
      listings: LISTINGS - faults.length,
      newListings: LISTINGS - faults.length,
      rejected: faults.length,
      rejectedRatio: faults.length / LISTINGS,
      pagesFetched: 55 + LISTINGS,
      failedPages: 0,
      duplicatesInScrape: 0,
      duplicateAddresses: 0,
      ok: true,
    });
    expect(metrics.completeness).toMatchObject({ sourceId: 1, price: 1, zip: 1, beds: 1, yearBuilt: 1, latitude: 1, ownerName: 0 });
    expect(metrics.rejectionReasons).toEqual({ price: 8, zip: 4, address: 4, beds: 3, yearBuilt: 3 });
    expect(metrics.checks.map((c) => c.name)).toEqual(['minListings', 'maxRejectedRatio', 'maxFailedPagesRatio', 'completeness.price', 'completeness.beds', 'completeness.livingAreaSqft', 'completeness.yearBuilt']);
    const stored = await setup.db.selectFrom('discovery.scrape_run').select(['state', 'metrics']).where('id', '=', first.scrapeId).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ state: 'success', metrics: { listings: LISTINGS - faults.length, ok: true } });
  });

  it('writes nothing to the working directory (crawlee storage is in memory, per run)', () => {
    expect(existsSync(join(process.cwd(), 'storage'))).toBe(false);
  });

  it('inserts nothing new on a second scrape, records changed prices and keeps first-seen dates', async () => {
    const before = await setup.db.selectFrom('discovery.prospect_queue').select(['source_id', 'first_seen_at', 'last_seen_at']).execute();
    const changed = houses.filter((h) => !faulty.has(h.id)).slice(3, 6);
    changed.forEach((h, i) => site.setPrice(h.id, h.price - 5_000 * (i + 1)));
    site.clearRequests();
    const second = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'king_static', configDir: folder.relative, baseUrl: `${site.url}/static/` });
    expect(second).toMatchObject({ inserted: 0, seenAgain: LISTINGS - faults.length, priceChanges: 3, rejected: faults.length });
    const after = await setup.db.selectFrom('discovery.prospect_queue').select(['source_id', 'first_seen_at', 'last_seen_at', sql<number>`price::float8`.as('price'), 'price_changed_at']).execute();
    expect(after).toHaveLength(before.length);
    const earlier = new Map(before.map((r) => [r.source_id, r]));
    for (const row of after) {
      expect(row.first_seen_at).toEqual(earlier.get(row.source_id)!.first_seen_at);
      expect(row.last_seen_at.getTime()).toBeGreaterThan(earlier.get(row.source_id)!.last_seen_at.getTime());
    }
    for (const [i, house] of changed.entries()) {
      const row = after.find((r) => r.source_id === house.id)!;
      expect(row.price).toBe(house.price - 5_000 * (i + 1));
      expect(row.price_changed_at).not.toBeNull();
      const history = await setup.db
        .selectFrom('discovery.price_history as h')
        .innerJoin('discovery.prospect_queue as p', 'p.id', 'h.prospect_id')
        .select([sql<number | null>`h.old_price::float8`.as('old'), sql<number>`h.new_price::float8`.as('new'), 'h.scrape_id'])
        .where('p.source_id', '=', house.id)
        .orderBy('h.id')
        .execute();
      expect(history).toEqual([
        { old: null, new: house.price, scrape_id: first.scrapeId },
        { old: house.price, new: house.price - 5_000 * (i + 1), scrape_id: second.scrapeId },
      ]);
    }
    const unchanged = after.filter((r) => !changed.some((h) => h.id === r.source_id));
    expect(unchanged.every((r) => r.price_changed_at === null)).toBe(true);
    const { n } = await setup.db.selectFrom('discovery.price_history').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    expect(n).toBe(before.length + 3);
    const rejected = await setup.db.selectFrom('discovery.rejected_listing').select(['times_rejected', 'last_scrape_id']).execute();
    expect(rejected).toHaveLength(faults.length);
    expect(rejected.every((r) => r.times_rejected === 2 && r.last_scrape_id === second.scrapeId)).toBe(true);
  });
});

describe('politeness: robots.txt, rate limits, retries and a site that is down', () => {
  let setup: DiscoverySetup;
  let folder: ReturnType<typeof countyFolder>;
  beforeAll(async () => {
    setup = await setupDiscovery();
    folder = countyFolder();
  });
  afterAll(async () => {
    folder?.remove();
    await setup?.close();
  });

  it('never requests what robots.txt disallows: detail pages under a prefix, and a list page (so pagination stops there)', async () => {
    const site = await startListingsSite({ limit: 200, pageSize: 20, disallow: ['/static/listings/7', '/static/listings?page=8'] });
    try {
      folder.write('robots', 'king_wa', fast);
      const result = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'robots', configDir: folder.relative, baseUrl: `${site.url}/static/` });
      const reachable = site.houses.slice(0, 7 * 20);
      const disallowed = reachable.filter((h) => h.id.startsWith('7'));
      expect(disallowed.length).toBeGreaterThan(0);
      expect(site.requests.filter((r) => r.kind === 'robots')).toHaveLength(1);
      expect(site.requests.filter((r) => r.kind === 'list').map((r) => r.path)).toEqual(Array.from({ length: 7 }, (_, i) => `/static/listings?page=${i + 1}`));
      expect(site.requests.filter((r) => r.path.startsWith('/static/listings/7'))).toEqual([]);
      expect(result).toMatchObject({ skippedByRobots: disallowed.length + 1, valid: reachable.length - disallowed.length, failedPages: 0 });
      const ids = (await setup.db.selectFrom('discovery.prospect_queue').select('source_id').execute()).map((r) => r.source_id);
      expect(ids.filter((id) => id.startsWith('7'))).toEqual([]);
    } finally {
      await site.close();
    }
  });

  it('spaces requests by the rate limit (measured at the site) and keeps to the concurrency limit', async () => {
    const site = await startListingsSite({ limit: 60, pageSize: 20, latencyMs: 30 });
    try {
      folder.write('rate', 'king_wa', (config) => {
        fast(config);
        config.limits = { ...config.limits, requestsPerSecond: 20, maxConcurrency: 3 };
        config.userAgent = 'TributaryTest/1.0 (rate limit test)';
      });
      await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'rate', configDir: folder.relative, baseUrl: `${site.url}/static/` });
      const times = arrivals(site.requests);
      expect(times).toHaveLength(3 + 60);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      const sorted = [...gaps].sort((a, b) => a - b);
      // 20 per second: starts at least 50 ms apart. Arrivals can only drift later under load, so
      // the whole crawl takes at least (n - 1) × 50 ms, the typical gap is 50 ms or more, and no
      // second holds more than 20 + 2 arrivals (the site runs in this process: a stall of its event
      // loop stamps requests that arrived apart as arriving together).
      expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((times.length - 1) * 50 - 25);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThanOrEqual(47);
      const perSecond = times.map((t) => times.filter((u) => u >= t && u < t + 1000).length);
      expect(Math.max(...perSecond)).toBeLessThanOrEqual(22);
      expect(site.maxInFlight).toBeLessThanOrEqual(3);
      expect(new Set(site.requests.filter((r) => r.kind !== 'robots').map((r) => r.userAgent))).toEqual(new Set(['TributaryTest/1.0 (rate limit test)']));
    } finally {
      await site.close();
    }
  });

  it('retries a failing page with exponential backoff, then carries on', async () => {
    const site = await startListingsSite({ limit: 20, pageSize: 20 });
    try {
      folder.write('flaky', 'king_wa', (config) => {
        fast(config);
        config.limits = { ...config.limits, maxRetries: 3, retryBackoffMs: 150, maxRetryBackoffMs: 1000 };
        config.validation = { ...config.validation, minListings: 1 };
      });
      site.failNext(2, ['list']);
      const result = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'flaky', configDir: folder.relative, baseUrl: `${site.url}/static/` });
      expect(result).toMatchObject({ retries: 2, failedPages: 0, valid: 20 });
      const tries = site.requests.filter((r) => r.kind === 'list');
      expect(tries.map((r) => r.status)).toEqual([503, 503, 200]);
      // Waits of 150 ms, then 300 ms, between the tries (lower bounds: load only adds to them).
      expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(145);
      expect(tries[2]!.at - tries[1]!.at).toBeGreaterThanOrEqual(295);
    } finally {
      await site.close();
    }
  });

  it('fails clearly when the site is down, after retrying each start page, and records the failed scrape', async () => {
    const site = await startListingsSite({ limit: 20, pageSize: 20 });
    try {
      folder.write('down', 'king_wa', (config) => {
        fast(config);
        config.limits = { ...config.limits, maxRetries: 2, retryBackoffMs: 20, maxRetryBackoffMs: 40 };
      });
      site.setDown(true);
      const error = await runOperator(setup.engine, 'scrape', { county: 'down', configDir: folder.relative, baseUrl: `${site.url}/static/` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScrapeFailedError);
      expect((error as Error).message).toMatch(
        new RegExp(`^county 'down': the site could not be read: ${site.url.replace(/\./g, '\\.')}/static/listings\\?page=1 failed after 2 retries: .*503`),
      );
      expect(site.requests.filter((r) => r.kind === 'list').map((r) => r.status)).toEqual([503, 503, 503]);
      const run = await setup.db.selectFrom('discovery.scrape_run').select(['state', 'error', 'stats']).where('config', '=', 'down').executeTakeFirstOrThrow();
      expect(run.state).toBe('failed');
      expect(run.error).toMatch(/the site could not be read/);
      expect(run.stats).toMatchObject({ crawl: { pagesFetched: 0, failedPages: [{ kind: 'list', retries: 2 }] } });
    } finally {
      await site.close();
    }
  });

  it('stops at the page cap of the run and reports the scrape as capped', async () => {
    const site = await startListingsSite({ limit: 100, pageSize: 20 });
    try {
      folder.write('capped', 'king_wa', (config) => {
        fast(config);
        config.validation = { ...config.validation, minListings: 1 };
      });
      const result = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'capped', configDir: folder.relative, baseUrl: `${site.url}/static/`, maxPages: 12 });
      expect(result).toMatchObject({ pagesFetched: 12, capped: true, failedPages: 0 });
      // Pages beyond the cap are never requested (robots.txt aside).
      expect(site.requests.filter((r) => r.kind !== 'robots')).toHaveLength(12);
    } finally {
      await site.close();
    }
  });
});
