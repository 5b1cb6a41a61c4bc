import { sql, type Kysely } from 'kysely';

/**
 * The web monitor and REST API: users with roles, browser sessions, API tokens, variables and
 * connections; audit entries gain the object they concern; schedulers heart-beat in `process`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tributary.web_user (
      id bigserial PRIMARY KEY,
      username text NOT NULL UNIQUE,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_login_at timestamptz
    );

    -- Browser sessions: only a hash of the cookie's secret is stored.
    CREATE TABLE tributary.web_session (
      id_hash text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES tributary.web_user ON DELETE CASCADE,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      ip text,
      user_agent text
    );
    CREATE INDEX web_session_expiry ON tributary.web_session (expires_at);

    -- Bearer tokens for the REST API: only a hash is stored; the token is shown once.
    CREATE TABLE tributary.api_token (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES tributary.web_user ON DELETE CASCADE,
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      last_used_at timestamptz
    );

    CREATE TABLE tributary.variable (
      key text PRIMARY KEY,
      value text NOT NULL,
      description text,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE tributary.connection (
      conn_id text PRIMARY KEY,
      conn_type text NOT NULL,
      description text,
      host text,
      port integer,
      schema text,
      login text,
      password text,
      extra jsonb NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    ALTER TABLE tributary.audit_log ADD COLUMN object text;
    CREATE INDEX audit_log_actor ON tributary.audit_log (actor, at DESC);
  `.execute(db);
}
