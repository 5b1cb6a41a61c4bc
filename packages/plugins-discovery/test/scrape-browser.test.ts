import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScrapeResult } from '../src/operators/results.js';
import { demoFaults } from '../src/site/faults.js';
import { kingCountyHouses, parcelAddress } from '../src/site/houses.js';
import { startListingsSite } from '../src/site/server.js';
import { countyFolder, runOperator, setupDiscovery, type DiscoverySetup } from './support.js';

// A real Chromium renders every page: minutes on a loaded 2-core machine. So the large crawl reads
// listings from the list pages only (50 navigations for 1,000 listings); a small one follows the
// detail pages too.
describe('scraping the JavaScript-rendered listings site with PlaywrightCrawler and Chromium', { timeout: 240_000 }, () => {
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

  it('reads 1,000 listings over 50 rendered list pages, rejecting the malformed ones with reasons, loading no images or styles', async () => {
    const houses = kingCountyHouses().slice(0, 1_000);
    const faults = demoFaults(houses, 50);
    const onCards = faults.filter((f) => ['price', 'zip', 'address', 'bedrooms'].includes(f.field));
    const site = await startListingsSite({ limit: 1_000, pageSize: 20, faults });
    try {
      folder.write('browser_list', 'king_wa_browser', (config) => {
        delete config.detail;
        config.list.fields = {
          ...config.list.fields,
          beds: { selector: '.beds', transform: 'number' },
          baths: { selector: '.baths', transform: 'number' },
          livingAreaSqft: { selector: '.sqft', transform: 'number' },
        };
        config.limits = { ...config.limits, maxPagesPerRun: 1_000, requestsPerSecond: 200, maxConcurrency: 4 };
      });
      const result = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'browser_list', configDir: folder.relative, baseUrl: `${site.url}/app/` });
      expect(result).toMatchObject({ renderer: 'browser', pagesFetched: 50, listingsFound: 1_000, valid: 1_000 - onCards.length, rejected: onCards.length, failedPages: 0 });
      const lists = site.requests.filter((r) => r.kind === 'list').map((r) => r.path);
      expect(lists).toEqual(Array.from({ length: 50 }, (_, i) => `/app/listings?page=${i + 1}`));
      expect(site.requests.filter((r) => r.kind === 'api')).toHaveLength(50);
      expect(site.requests.filter((r) => r.kind === 'photo' || r.kind === 'asset')).toEqual([]);

      const house = houses.find((h) => !faults.some((f) => f.id === h.id))!;
      const row = await setup.db
        .selectFrom('discovery.prospect_queue')
        .select(['source', 'address', 'zip', sql<number>`price::float8`.as('price'), 'beds', sql<number>`baths::float8`.as('baths'), 'living_area_sqft', 'listing_url'])
        .where('source_id', '=', house.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({
        source: 'kc-homes-app',
        address: parcelAddress(house.id),
        zip: house.zip,
        price: house.price,
        beds: house.bedrooms,
        baths: house.bathrooms,
        living_area_sqft: house.livingAreaSqft,
        listing_url: `${site.url}/app/listings/${house.id}`,
      });
      const rejected = await setup.db.selectFrom('discovery.rejected_listing').select(['source_id', 'reasons']).execute();
      expect(rejected.map((r) => r.source_id).sort()).toEqual(onCards.map((f) => f.id).sort());
      const callForPrice = onCards.find((f) => f.value === 'Call for price')!;
      expect(rejected.find((r) => r.source_id === callForPrice.id)!.reasons).toEqual([{ field: 'price', message: 'expected a price in dollars as a number, got "Call for price"' }]);
    } finally {
      await site.close();
    }
  });

  it('follows rendered detail pages and reads every field from them', async () => {
    const site = await startListingsSite({ limit: 40, pageSize: 20 });
    try {
      folder.write('browser_detail', 'king_wa_browser', (config) => {
        config.limits = { ...config.limits, requestsPerSecond: 200, maxConcurrency: 4 };
        config.validation = { ...config.validation, minListings: 1 };
      });
      const result = await runOperator<ScrapeResult>(setup.engine, 'scrape', { county: 'browser_detail', configDir: folder.relative, baseUrl: `${site.url}/app/` });
      expect(result).toMatchObject({ pagesFetched: 42, valid: 40, rejected: 0 });
      expect(site.requests.filter((r) => r.kind === 'detail')).toHaveLength(40);
      const house = site.houses[7]!;
      const row = await setup.db
        .selectFrom('discovery.prospect_queue')
        .select(['source', sql<number>`lot_size_sqft::float8`.as('lot'), 'year_built', 'latitude', 'longitude', sql<string>`listed_on::text`.as('listed_on'), 'raw'])
        .where('source', '=', 'kc-homes-app')
        .where('source_id', '=', house.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ lot: house.lotSizeSqft, year_built: house.yearBuilt, latitude: house.latitude, longitude: house.longitude, listed_on: house.listedOn });
      expect(row.raw).toMatchObject({ extra: { floors: house.floors, grade: house.grade, waterfront: house.waterfront }, detailPageUrl: `${site.url}/app/listings/${house.id}` });
    } finally {
      await site.close();
    }
  });
});
