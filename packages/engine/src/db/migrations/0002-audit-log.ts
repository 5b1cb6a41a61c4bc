import { sql, type Kysely } from 'kysely';

/** Who did what to which object, when and from where: every operator action and login. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tributary.audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      origin text NOT NULL,
      action text NOT NULL,
      dag_id text,
      run_id text,
      task_id text,
      details jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_at ON tributary.audit_log (at DESC, id DESC);
    CREATE INDEX audit_log_dag ON tributary.audit_log (dag_id, at DESC) WHERE dag_id IS NOT NULL;
  `.execute(db);
}
