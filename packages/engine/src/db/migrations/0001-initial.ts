import { sql, type Kysely } from 'kysely';

/** DAGs and their versions, parsed files and import errors, runs, task instances, tries, XCom, logs, pools, processes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SCHEMA IF NOT EXISTS tributary;

    CREATE TABLE tributary.dag (
      dag_id text PRIMARY KEY,
      file text,
      is_paused boolean NOT NULL DEFAULT false,
      is_active boolean NOT NULL DEFAULT true,
      description text,
      tags text[] NOT NULL DEFAULT '{}',
      schedule text,
      timezone text NOT NULL DEFAULT 'UTC',
      max_active_runs integer NOT NULL,
      max_active_tasks integer NOT NULL,
      latest_version_id bigint,
      -- Hash of schedule, time zone, start/end date and catchup; a change recomputes the next run.
      timetable_key text,
      -- True when the next scheduled run must be (re)computed by the scheduler.
      needs_next_run boolean NOT NULL DEFAULT true,
      next_run_after timestamptz,
      next_logical_date timestamptz,
      next_interval_start timestamptz,
      next_interval_end timestamptz,
      last_parsed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX dag_next_run ON tributary.dag (next_run_after) WHERE is_active AND NOT is_paused;

    CREATE TABLE tributary.dag_version (
      id bigserial PRIMARY KEY,
      dag_id text NOT NULL REFERENCES tributary.dag ON DELETE CASCADE,
      version_number integer NOT NULL,
      hash text NOT NULL,
      serialized jsonb NOT NULL,
      source_code text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (dag_id, hash),
      UNIQUE (dag_id, version_number)
    );
    ALTER TABLE tributary.dag ADD FOREIGN KEY (latest_version_id) REFERENCES tributary.dag_version (id);

    CREATE TABLE tributary.dag_file (
      path text PRIMARY KEY,
      content_hash text NOT NULL,
      parsed_at timestamptz NOT NULL,
      parse_duration_ms integer NOT NULL,
      dag_ids text[] NOT NULL DEFAULT '{}'
    );

    CREATE TABLE tributary.import_error (
      file text PRIMARY KEY,
      message text NOT NULL,
      stack text,
      occurred_at timestamptz NOT NULL
    );

    CREATE TABLE tributary.dag_run (
      id bigserial PRIMARY KEY,
      dag_id text NOT NULL REFERENCES tributary.dag ON DELETE CASCADE,
      run_id text NOT NULL,
      dag_version_id bigint NOT NULL REFERENCES tributary.dag_version,
      run_type text NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'backfill', 'asset', 'test')),
      state text NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
      logical_date timestamptz NOT NULL,
      data_interval_start timestamptz NOT NULL,
      data_interval_end timestamptz NOT NULL,
      conf jsonb NOT NULL DEFAULT '{}',
      queue_override text,
      triggered_by text,
      note text,
      created_at timestamptz NOT NULL DEFAULT now(),
      queued_at timestamptz,
      start_date timestamptz,
      end_date timestamptz,
      UNIQUE (dag_id, run_id)
    );
    -- Two schedulers can never create the same scheduled or backfill run twice.
    CREATE UNIQUE INDEX dag_run_interval ON tributary.dag_run (dag_id, logical_date)
      WHERE run_type IN ('scheduled', 'backfill');
    CREATE INDEX dag_run_recent ON tributary.dag_run (dag_id, id DESC);
    CREATE INDEX dag_run_active ON tributary.dag_run (dag_id, state) WHERE state IN ('queued', 'running');

    CREATE TABLE tributary.task_instance (
      id bigserial PRIMARY KEY,
      run_pk bigint NOT NULL REFERENCES tributary.dag_run ON DELETE CASCADE,
      dag_id text NOT NULL,
      task_id text NOT NULL,
      map_index integer NOT NULL DEFAULT -1,
      state text CHECK (state IN ('scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry',
        'up_for_reschedule', 'upstream_failed', 'skipped', 'removed', 'deferred')),
      try_number integer NOT NULL DEFAULT 0,
      max_tries integer NOT NULL,
      pool text NOT NULL,
      pool_slots integer NOT NULL,
      priority_weight integer NOT NULL,
      queue text NOT NULL,
      operator text,
      executor text,
      hostname text,
      worker_id text,
      pid integer,
      queued_at timestamptz,
      start_date timestamptz,
      end_date timestamptz,
      heartbeat_at timestamptz,
      next_retry_at timestamptz,
      rendered_args jsonb,
      external_id text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (run_pk, task_id, map_index)
    );
    -- Finding a run's unfinished task instances must not scan finished ones.
    CREATE INDEX task_instance_unfinished ON tributary.task_instance (run_pk)
      WHERE state IS NULL OR state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed');
    -- Slot accounting for pools and max_active_tasks.
    CREATE INDEX task_instance_occupying ON tributary.task_instance (pool, dag_id)
      WHERE state IN ('queued', 'running');
    CREATE INDEX task_instance_waiting ON tributary.task_instance (pool, priority_weight DESC, id)
      WHERE state = 'scheduled';
    CREATE INDEX task_instance_retry ON tributary.task_instance (next_retry_at) WHERE state = 'up_for_retry';
    CREATE INDEX task_instance_heartbeat ON tributary.task_instance (heartbeat_at) WHERE state = 'running';

    CREATE TABLE tributary.task_try (
      ti_id bigint NOT NULL REFERENCES tributary.task_instance ON DELETE CASCADE,
      try_number integer NOT NULL,
      state text NOT NULL,
      hostname text,
      worker_id text,
      pid integer,
      start_date timestamptz NOT NULL,
      end_date timestamptz,
      duration_ms integer,
      error jsonb,
      PRIMARY KEY (ti_id, try_number)
    );

    CREATE TABLE tributary.xcom (
      run_pk bigint NOT NULL REFERENCES tributary.dag_run ON DELETE CASCADE,
      task_id text NOT NULL,
      map_index integer NOT NULL DEFAULT -1,
      key text NOT NULL,
      value jsonb NOT NULL,
      size_bytes integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_pk, task_id, map_index, key)
    );

    CREATE TABLE tributary.task_log (
      id bigserial PRIMARY KEY,
      ti_id bigint NOT NULL REFERENCES tributary.task_instance ON DELETE CASCADE,
      try_number integer NOT NULL,
      logged_at timestamptz NOT NULL,
      level text NOT NULL,
      message text NOT NULL
    );
    CREATE INDEX task_log_try ON tributary.task_log (ti_id, try_number, id);

    CREATE TABLE tributary.pool (
      name text PRIMARY KEY,
      slots integer NOT NULL CHECK (slots >= -1),
      description text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO tributary.pool (name, slots, description) VALUES ('default_pool', 128, 'Default pool');

    CREATE TABLE tributary.process (
      id text PRIMARY KEY,
      kind text NOT NULL,
      hostname text NOT NULL,
      pid integer NOT NULL,
      started_at timestamptz NOT NULL,
      heartbeat_at timestamptz NOT NULL,
      stopped_at timestamptz,
      info jsonb NOT NULL DEFAULT '{}'
    );
  `.execute(db);
}
