import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/**
 * A numeric column: written as a number, read back as the text Postgres sends (cast in queries that
 * need numbers). bigint columns (ids) read as numbers: the engine's connection parses int8.
 */
type Numeric = ColumnType<string, number | string, number | string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** `discovery.prospect_queue`: one row per listing (unique per source and source id). */
export interface ProspectQueueTable {
  id: Generated<number>;
  source: string;
  source_id: string;
  county: string;
  address: string;
  city: string | null;
  state: string | null;
  zip: string;
  price: Numeric;
  beds: number | null;
  baths: ColumnType<string | null, number | null, number | null>;
  living_area_sqft: number | null;
  lot_size_sqft: number | null;
  year_built: number | null;
  latitude: number | null;
  longitude: number | null;
  listed_on: ColumnType<Date | null, string | null, string | null>;
  listing_url: string;
  owner_name: string | null;
  owner_mailing_address: string | null;
  status: Generated<string>;
  raw: JSONColumnType<Record<string, unknown>>;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  price_changed_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  last_scrape_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** `discovery.price_history`: every price a listing has had, first seen included. */
export interface PriceHistoryTable {
  id: Generated<number>;
  prospect_id: ColumnType<number, number, never>;
  old_price: ColumnType<string | null, number | string | null, never>;
  new_price: ColumnType<string, number | string, never>;
  changed_at: Timestamp;
  scrape_id: ColumnType<number | null, number | null, never>;
}

/** `discovery.rejected_listing`: listings that failed validation, with the reasons (one row per listing URL). */
export interface RejectedListingTable {
  id: Generated<number>;
  source: string;
  county: string;
  listing_url: string;
  source_id: string | null;
  reasons: JSONColumnType<{ field: string; message: string }[]>;
  raw: JSONColumnType<Record<string, unknown>>;
  first_rejected_at: Timestamp;
  last_rejected_at: Timestamp;
  times_rejected: Generated<number>;
  last_scrape_id: number | null;
}

/** `discovery.scrape_run`: one row per scrape (a try of the scrape operator), with its stats and metrics. */
export interface ScrapeRunTable {
  id: Generated<number>;
  config: string;
  county: string;
  source: string;
  renderer: string;
  dag_id: string | null;
  run_id: string | null;
  task_id: string | null;
  try_number: number | null;
  state: Generated<'running' | 'success' | 'failed'>;
  started_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  stats: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  metrics: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  error: string | null;
}

/** The discovery plugin's tables, as kysely sees them (`runtime.database<DiscoveryTables>()`). */
export interface DiscoveryTables {
  'discovery.prospect_queue': ProspectQueueTable;
  'discovery.price_history': PriceHistoryTable;
  'discovery.rejected_listing': RejectedListingTable;
  'discovery.scrape_run': ScrapeRunTable;
}
