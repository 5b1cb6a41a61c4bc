import { sql, type Kysely } from 'kysely';

/**
 * Scheduling at Airflow parity: backfills and the runs they plan, asset events and the DAGs they
 * trigger, run deadlines.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tributary.backfill (
      id bigserial PRIMARY KEY,
      dag_id text NOT NULL REFERENCES tributary.dag ON DELETE CASCADE,
      from_date timestamptz NOT NULL,
      to_date timestamptz NOT NULL,
      reprocess text NOT NULL CHECK (reprocess IN ('none', 'failed', 'completed')),
      max_active_runs integer NOT NULL CHECK (max_active_runs >= 1),
      run_backwards boolean NOT NULL DEFAULT false,
      conf jsonb NOT NULL DEFAULT '{}',
      state text NOT NULL CHECK (state IN ('running', 'completed', 'cancelled')),
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz
    );
    -- One active backfill per DAG (as in Airflow 3).
    CREATE UNIQUE INDEX backfill_one_running ON tributary.backfill (dag_id) WHERE state = 'running';

    -- The intervals a backfill covers, in the order it works through them, and what it did with each.
    CREATE TABLE tributary.backfill_run (
      backfill_id bigint NOT NULL REFERENCES tributary.backfill ON DELETE CASCADE,
      sort_ordinal integer NOT NULL,
      logical_date timestamptz NOT NULL,
      data_interval_start timestamptz NOT NULL,
      data_interval_end timestamptz NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('pending', 'created', 'cleared', 'exists', 'in_flight', 'cancelled')),
      run_pk bigint REFERENCES tributary.dag_run ON DELETE SET NULL,
      PRIMARY KEY (backfill_id, sort_ordinal)
    );
    CREATE INDEX backfill_run_pending ON tributary.backfill_run (backfill_id, sort_ordinal) WHERE outcome = 'pending';

    ALTER TABLE tributary.dag_run
      ADD COLUMN backfill_id bigint REFERENCES tributary.backfill ON DELETE SET NULL,
      ADD COLUMN deadline_at timestamptz,
      ADD COLUMN deadline_alerted_at timestamptz;
    CREATE INDEX dag_run_backfill_active ON tributary.dag_run (backfill_id, state)
      WHERE backfill_id IS NOT NULL AND state IN ('queued', 'running');
    CREATE INDEX dag_run_deadline ON tributary.dag_run (deadline_at)
      WHERE deadline_at IS NOT NULL AND deadline_alerted_at IS NULL;

    -- Airflow's name for asset-triggered runs.
    ALTER TABLE tributary.dag_run DROP CONSTRAINT dag_run_run_type_check;
    UPDATE tributary.dag_run SET run_type = 'asset_triggered' WHERE run_type = 'asset';
    ALTER TABLE tributary.dag_run ADD CONSTRAINT dag_run_run_type_check
      CHECK (run_type IN ('scheduled', 'manual', 'backfill', 'asset_triggered', 'test'));

    -- Run creation checks (under the DAG's run lock) that no other run holds a chosen logical date.
    CREATE INDEX dag_run_logical_date ON tributary.dag_run (dag_id, logical_date);

    CREATE TABLE tributary.asset (
      id bigserial PRIMARY KEY,
      uri text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    -- An asset updated by a successful task (one listing it in its outlets).
    CREATE TABLE tributary.asset_event (
      id bigserial PRIMARY KEY,
      asset_id bigint NOT NULL REFERENCES tributary.asset ON DELETE CASCADE,
      source_dag_id text,
      source_run_id text,
      source_task_id text,
      source_map_index integer,
      extra jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX asset_event_asset ON tributary.asset_event (asset_id, id DESC);

    -- Per asset-scheduled DAG, the assets updated since its last asset-triggered run (Airflow's
    -- asset_dag_run_queue), with the range of events not yet consumed.
    CREATE TABLE tributary.asset_dag_queue (
      dag_id text NOT NULL REFERENCES tributary.dag ON DELETE CASCADE,
      asset_id bigint NOT NULL REFERENCES tributary.asset ON DELETE CASCADE,
      first_event_id bigint NOT NULL,
      last_event_id bigint NOT NULL,
      PRIMARY KEY (dag_id, asset_id)
    );

    -- The asset events an asset-triggered run consumed.
    CREATE TABLE tributary.dag_run_asset_event (
      run_pk bigint NOT NULL REFERENCES tributary.dag_run ON DELETE CASCADE,
      event_id bigint NOT NULL REFERENCES tributary.asset_event ON DELETE CASCADE,
      PRIMARY KEY (run_pk, event_id)
    );

    -- The assets a DAG's schedule waits for (empty unless scheduled on assets).
    ALTER TABLE tributary.dag ADD COLUMN asset_triggers text[] NOT NULL DEFAULT '{}';
    CREATE INDEX dag_asset_triggers ON tributary.dag USING gin (asset_triggers);
  `.execute(db);
}
