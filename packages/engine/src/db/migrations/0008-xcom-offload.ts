import { sql, type Kysely } from 'kysely';

/**
 * XCom offload: `offloaded` marks a row whose `value` is a reference (`{ bucket, key, sizeBytes }`)
 * to the result in the object store rather than the result itself. A column rather than a marker
 * inside the value, so that no result a task returns can be mistaken for a reference. Adding a
 * column with a constant default rewrites nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tributary.xcom ADD COLUMN offloaded boolean NOT NULL DEFAULT false`.execute(db);
}
