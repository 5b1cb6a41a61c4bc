import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Postgres schema the discovery plugin owns. */
export const DISCOVERY_SCHEMA = 'discovery';

const run = (statements: ReturnType<typeof sql>) => async (db: Kysely<unknown>): Promise<void> => {
  await statements.execute(db);
};

/**
 * Migrations of the `discovery` schema, applied in name order. Never edit an applied one: add a new
 * migration instead.
 */
export const discoveryMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-prospect-queue': {
    up: run(sql`
      CREATE TABLE discovery.prospect_queue (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        source_id text NOT NULL,
        county text NOT NULL,
        address text NOT NULL,
        city text,
        state text,
        zip text NOT NULL,
        price numeric(14, 2) NOT NULL,
        beds integer,
        baths numeric(5, 2),
        living_area_sqft integer,
        lot_size_sqft bigint,
        year_built integer,
        latitude double precision,
        longitude double precision,
        listed_on date,
        listing_url text NOT NULL,
        owner_name text,
        owner_mailing_address text,
        -- new → enriched → scored → … : later stages belong to the plugins that own them.
        status text NOT NULL DEFAULT 'new',
        raw jsonb NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        price_changed_at timestamptz,
        last_scrape_id bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT prospect_queue_source_id_key UNIQUE (source, source_id)
      );
      CREATE INDEX prospect_queue_status_idx ON discovery.prospect_queue (status);
      CREATE INDEX prospect_queue_county_idx ON discovery.prospect_queue (county, last_seen_at DESC);
      CREATE INDEX prospect_queue_last_scrape_idx ON discovery.prospect_queue (last_scrape_id);
      CREATE INDEX prospect_queue_address_idx ON discovery.prospect_queue (lower(address), zip);

      CREATE TABLE discovery.price_history (
        id bigserial PRIMARY KEY,
        prospect_id bigint NOT NULL REFERENCES discovery.prospect_queue (id) ON DELETE CASCADE,
        old_price numeric(14, 2),
        new_price numeric(14, 2) NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        scrape_id bigint
      );
      CREATE INDEX price_history_prospect_idx ON discovery.price_history (prospect_id, changed_at);

      CREATE TABLE discovery.rejected_listing (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        county text NOT NULL,
        listing_url text NOT NULL,
        source_id text,
        reasons jsonb NOT NULL,
        raw jsonb NOT NULL,
        first_rejected_at timestamptz NOT NULL DEFAULT now(),
        last_rejected_at timestamptz NOT NULL DEFAULT now(),
        times_rejected integer NOT NULL DEFAULT 1,
        last_scrape_id bigint,
        CONSTRAINT rejected_listing_url_key UNIQUE (source, listing_url)
      );
      CREATE INDEX rejected_listing_scrape_idx ON discovery.rejected_listing (last_scrape_id);

      CREATE TABLE discovery.scrape_run (
        id bigserial PRIMARY KEY,
        -- The county config's id (its file name) and the county it describes.
        config text NOT NULL,
        county text NOT NULL,
        source text NOT NULL,
        renderer text NOT NULL,
        dag_id text,
        run_id text,
        task_id text,
        try_number integer,
        state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'success', 'failed')),
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        stats jsonb,
        metrics jsonb,
        error text
      );
      CREATE INDEX scrape_run_config_idx ON discovery.scrape_run (config, started_at DESC);
      CREATE INDEX scrape_run_dag_run_idx ON discovery.scrape_run (dag_id, run_id);
    `),
  },
});
