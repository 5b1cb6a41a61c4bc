import { sql, type Kysely } from 'kysely';
import type { RejectedListing, ValidListing } from '../extract/listing.js';
import type { DiscoveryTables } from './tables.js';

/** Which source and scrape a batch of listings belongs to. */
export interface ListingScope {
  readonly source: string;
  readonly county: string;
  /** `discovery.scrape_run.id` */
  readonly scrapeId: number;
}

/** What one upsert did. */
export interface UpsertCounts {
  /** Listings seen for the first time. */
  inserted: number;
  /** Listings already known: `last_seen_at` moved on, first-seen kept. */
  seenAgain: number;
  /** Known listings whose price changed (each recorded in `price_history`). */
  priceChanges: number;
}

/** Last of each source id wins: one statement may not touch a row twice. */
function lastBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

/**
 * Insert new listings and update known ones (unique per source and source id) in one transaction:
 * a listing seen again keeps its first-seen time and status; a changed price is recorded in
 * `price_history` (a new listing's first price too, with no old price); a rejection recorded for
 * the same listing URL earlier is removed. Scrapes of one source are serialized by an advisory lock.
 */
export async function upsertListings(db: Kysely<DiscoveryTables>, scope: ListingScope, batch: readonly ValidListing[]): Promise<UpsertCounts> {
  const listings = lastBy(batch, (l) => l.sourceId);
  if (listings.length === 0) return { inserted: 0, seenAgain: 0, priceChanges: 0 };
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`discovery.prospect_queue:${scope.source}`}))`.execute(tx);
    const known = await tx
      .selectFrom('discovery.prospect_queue')
      .select(['source_id', sql<number>`price::float8`.as('price')])
      .where('source', '=', scope.source)
      .where('source_id', 'in', listings.map((l) => l.sourceId))
      .execute();
    const previous = new Map(known.map((row) => [row.source_id, row.price]));
    const rows = await tx
      .insertInto('discovery.prospect_queue')
      .values(
        listings.map((l) => ({
          source: scope.source,
          source_id: l.sourceId,
          county: scope.county,
          address: l.address,
          city: l.city,
          state: l.state,
          zip: l.zip,
          price: l.price,
          beds: l.beds,
          baths: l.baths,
          living_area_sqft: l.livingAreaSqft,
          lot_size_sqft: l.lotSizeSqft,
          year_built: l.yearBuilt,
          latitude: l.latitude,
          longitude: l.longitude,
          listed_on: l.listedOn,
          listing_url: l.listingUrl,
          owner_name: l.ownerName,
          owner_mailing_address: l.ownerMailingAddress,
          raw: JSON.stringify(l.raw),
          last_scrape_id: scope.scrapeId,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['source', 'source_id']).doUpdateSet((eb) => ({
          county: eb.ref('excluded.county'),
          address: eb.ref('excluded.address'),
          city: eb.ref('excluded.city'),
          state: eb.ref('excluded.state'),
          zip: eb.ref('excluded.zip'),
          price: eb.ref('excluded.price'),
          beds: eb.ref('excluded.beds'),
          baths: eb.ref('excluded.baths'),
          living_area_sqft: eb.ref('excluded.living_area_sqft'),
          lot_size_sqft: eb.ref('excluded.lot_size_sqft'),
          year_built: eb.ref('excluded.year_built'),
          latitude: eb.ref('excluded.latitude'),
          longitude: eb.ref('excluded.longitude'),
          listed_on: eb.ref('excluded.listed_on'),
          listing_url: eb.ref('excluded.listing_url'),
          owner_name: eb.ref('excluded.owner_name'),
          owner_mailing_address: eb.ref('excluded.owner_mailing_address'),
          raw: eb.ref('excluded.raw'),
          last_scrape_id: eb.ref('excluded.last_scrape_id'),
          last_seen_at: sql`now()`,
          updated_at: sql`now()`,
          price_changed_at: sql`CASE WHEN discovery.prospect_queue.price IS DISTINCT FROM excluded.price THEN now() ELSE discovery.prospect_queue.price_changed_at END`,
        })),
      )
      .returning(['id', 'source_id'])
      .execute();
    const bySourceId = new Map(listings.map((l) => [l.sourceId, l]));
    const history: { prospect_id: number; old_price: number | null; new_price: number; scrape_id: number }[] = [];
    let priceChanges = 0;
    for (const row of rows) {
      const listing = bySourceId.get(row.source_id)!;
      const old = previous.get(row.source_id);
      if (old === undefined) history.push({ prospect_id: row.id, old_price: null, new_price: listing.price, scrape_id: scope.scrapeId });
      else if (old !== listing.price) {
        priceChanges += 1;
        history.push({ prospect_id: row.id, old_price: old, new_price: listing.price, scrape_id: scope.scrapeId });
      }
    }
    if (history.length > 0) await tx.insertInto('discovery.price_history').values(history).execute();
    await tx
      .deleteFrom('discovery.rejected_listing')
      .where('source', '=', scope.source)
      .where('listing_url', 'in', listings.map((l) => l.listingUrl))
      .execute();
    return { inserted: listings.length - previous.size, seenAgain: previous.size, priceChanges };
  });
}

/**
 * Record listings that failed validation, with their reasons and what was read (one row per source
 * and listing URL: a listing rejected again gets its reasons updated and its count raised).
 */
export async function recordRejected(db: Kysely<DiscoveryTables>, scope: ListingScope, batch: readonly RejectedListing[]): Promise<number> {
  const rejected = lastBy(batch, (r) => r.listingUrl);
  if (rejected.length === 0) return 0;
  await db
    .insertInto('discovery.rejected_listing')
    .values(
      rejected.map((r) => ({
        source: scope.source,
        county: scope.county,
        listing_url: r.listingUrl,
        source_id: r.sourceId,
        reasons: JSON.stringify(r.reasons),
        raw: JSON.stringify(r.raw),
        last_scrape_id: scope.scrapeId,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['source', 'listing_url']).doUpdateSet((eb) => ({
        source_id: eb.ref('excluded.source_id'),
        reasons: eb.ref('excluded.reasons'),
        raw: eb.ref('excluded.raw'),
        last_scrape_id: eb.ref('excluded.last_scrape_id'),
        last_rejected_at: sql`now()`,
        times_rejected: sql`discovery.rejected_listing.times_rejected + 1`,
      })),
    )
    .execute();
  return rejected.length;
}
