import { sql, type Kysely } from 'kysely';

/**
 * Sensors in reschedule mode: a task instance between pokes is `up_for_reschedule` with its next
 * poke time in `next_retry_at`, and `resuming` makes its next claim continue the same try instead of
 * starting a new one (Airflow keeps the try number across reschedules). `task_reschedule` records
 * each poke that ended in a reschedule (Airflow's table of the same name); the first one of a try
 * is where the sensor's total timeout counts from, whichever process pokes next.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tributary.task_instance ADD COLUMN resuming boolean NOT NULL DEFAULT false;

    -- Waking covers both retries and reschedules.
    DROP INDEX tributary.task_instance_retry;
    CREATE INDEX task_instance_wake ON tributary.task_instance (next_retry_at)
      WHERE state IN ('up_for_retry', 'up_for_reschedule');

    CREATE TABLE tributary.task_reschedule (
      id bigserial PRIMARY KEY,
      ti_id bigint NOT NULL REFERENCES tributary.task_instance ON DELETE CASCADE,
      try_number integer NOT NULL,
      -- When the poke that ended in this reschedule started, and when it ended.
      start_date timestamptz NOT NULL,
      end_date timestamptz NOT NULL,
      -- When the next poke is due.
      reschedule_date timestamptz NOT NULL
    );
    CREATE INDEX task_reschedule_try ON tributary.task_reschedule (ti_id, try_number, id);
  `.execute(db);
}
