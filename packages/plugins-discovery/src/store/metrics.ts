import { sql, type Kysely } from 'kysely';
import { LISTING_FIELDS, type CountyConfig, type ListingField } from '../config/county-config.js';
import type { CrawlStats } from '../crawl/crawl.js';
import type { WriteCounts } from './listing-writer.js';
import type { ScrapeRun } from './scrape-runs.js';
import type { DiscoveryTables } from './tables.js';

/** The stats a scrape stores with its run: what the crawl did and what was written. */
export interface ScrapeStats {
  readonly crawl: CrawlStats;
  readonly written: WriteCounts;
}

/** One validation check of a scrape. */
export interface ScrapeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Metrics of one scrape: counts, completeness per field, duplicates and the checks of the county's `validation`. */
export interface ScrapeMetrics {
  readonly scrapeId: number;
  readonly config: string;
  readonly county: string;
  readonly source: string;
  readonly renderer: string;
  /** Valid listings this scrape stored (new or seen again). */
  readonly listings: number;
  readonly newListings: number;
  readonly priceChanges: number;
  readonly rejected: number;
  /** rejected / (listings + rejected) */
  readonly rejectedRatio: number;
  /** Rejections by field. */
  readonly rejectionReasons: Readonly<Record<string, number>>;
  readonly pagesFetched: number;
  readonly failedPages: number;
  /** failed / (fetched + failed) */
  readonly failedPagesRatio: number;
  readonly skippedByRobots: number;
  readonly capped: boolean;
  /** Listings found more than once in this scrape. */
  readonly duplicatesInScrape: number;
  /** This county's listings sharing an address and ZIP code with another listing (other ids or sources). */
  readonly duplicateAddresses: number;
  /** Share of this scrape's listings that have each field. */
  readonly completeness: Readonly<Record<ListingField, number>>;
  readonly durationMs: number;
  readonly pagesPerSecond: number;
  readonly checks: readonly ScrapeCheck[];
  /** Every check passed. */
  readonly ok: boolean;
}

const COLUMNS: Record<ListingField, string> = {
  sourceId: 'source_id',
  address: 'address',
  city: 'city',
  state: 'state',
  zip: 'zip',
  price: 'price',
  beds: 'beds',
  baths: 'baths',
  livingAreaSqft: 'living_area_sqft',
  lotSizeSqft: 'lot_size_sqft',
  yearBuilt: 'year_built',
  latitude: 'latitude',
  longitude: 'longitude',
  listedOn: 'listed_on',
  listingUrl: 'listing_url',
  ownerName: 'owner_name',
  ownerMailingAddress: 'owner_mailing_address',
};

const ratio = (part: number, whole: number): number => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);
const percent = (value: number): string => `${Math.round(value * 1000) / 10}%`;

/**
 * Measure a finished scrape from what it stored (the listings it touched, its rejections) and its
 * stats, and run its county's `validation` checks.
 */
export async function computeScrapeMetrics(db: Kysely<DiscoveryTables>, scrape: ScrapeRun, validation: CountyConfig['validation']): Promise<ScrapeMetrics> {
  const stats = scrape.stats as unknown as ScrapeStats | null;
  const counted = LISTING_FIELDS.map((field) => sql<number>`count(${sql.ref(COLUMNS[field])})::int`.as(field));
  const totals = await db
    .selectFrom('discovery.prospect_queue')
    .select([sql<number>`count(*)::int`.as('total'), ...counted])
    .where('last_scrape_id', '=', scrape.id)
    .executeTakeFirstOrThrow();
  const listings = totals.total;
  const completeness = Object.fromEntries(LISTING_FIELDS.map((field) => [field, ratio((totals as unknown as Record<string, number>)[field] ?? 0, listings)])) as Record<ListingField, number>;
  const reasons = await sql<{ field: string; n: number }>`
    SELECT reason->>'field' AS field, count(*)::int AS n
    FROM discovery.rejected_listing, jsonb_array_elements(reasons) AS reason
    WHERE last_scrape_id = ${scrape.id} GROUP BY 1 ORDER BY 2 DESC, 1`.execute(db);
  const rejectedRow = await db
    .selectFrom('discovery.rejected_listing')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('last_scrape_id', '=', scrape.id)
    .executeTakeFirstOrThrow();
  const duplicates = await sql<{ n: number }>`
    SELECT coalesce(sum(n), 0)::int AS n FROM (
      SELECT count(*) AS n FROM discovery.prospect_queue WHERE county = ${scrape.county}
      GROUP BY lower(address), zip HAVING count(*) > 1) AS shared`.execute(db);
  const rejected = rejectedRow.n;
  const crawl = stats?.crawl;
  const pagesFetched = crawl?.pagesFetched ?? 0;
  const failedPages = crawl?.failedPages.length ?? 0;
  const rejectedRatio = ratio(rejected, listings + rejected);
  const failedPagesRatio = ratio(failedPages, pagesFetched + failedPages);

  const checks: ScrapeCheck[] = [
    { name: 'minListings', ok: listings >= validation.minListings, detail: `${listings} valid listings, at least ${validation.minListings} expected` },
    { name: 'maxRejectedRatio', ok: rejectedRatio <= validation.maxRejectedRatio, detail: `${percent(rejectedRatio)} rejected, at most ${percent(validation.maxRejectedRatio)} allowed` },
    { name: 'maxFailedPagesRatio', ok: failedPagesRatio <= validation.maxFailedPagesRatio, detail: `${percent(failedPagesRatio)} of pages failed, at most ${percent(validation.maxFailedPagesRatio)} allowed` },
    ...Object.entries(validation.minCompleteness).map(([field, min]) => {
      const share = completeness[field as ListingField];
      return { name: `completeness.${field}`, ok: share >= min!, detail: `${percent(share)} of listings have ${field}, at least ${percent(min!)} expected` };
    }),
  ];
  return {
    scrapeId: scrape.id,
    config: scrape.config,
    county: scrape.county,
    source: scrape.source,
    renderer: scrape.renderer,
    listings,
    newListings: stats?.written.inserted ?? 0,
    priceChanges: stats?.written.priceChanges ?? 0,
    rejected,
    rejectedRatio,
    rejectionReasons: Object.fromEntries(reasons.rows.map((r) => [r.field, r.n])),
    pagesFetched,
    failedPages,
    failedPagesRatio,
    skippedByRobots: crawl?.skippedByRobots ?? 0,
    capped: crawl?.capped ?? false,
    duplicatesInScrape: crawl?.duplicateListings ?? 0,
    duplicateAddresses: duplicates.rows[0]?.n ?? 0,
    completeness,
    durationMs: crawl?.durationMs ?? 0,
    pagesPerSecond: crawl?.pagesPerSecond ?? 0,
    checks,
    ok: checks.every((c) => c.ok),
  };
}
