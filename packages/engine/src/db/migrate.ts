import { Migrator, type MigrationResultSet } from 'kysely/migration';
import { ENGINE_SCHEMA } from './schema.js';
import { engineMigrationProvider } from './migrations/index.js';
import type { DatabaseHandle } from './connect.js';

/** Outcome of {@link migrateDatabase}: migrations applied now (empty when already up to date). */
export interface MigrationOutcome {
  applied: string[];
}

/**
 * Apply the engine's pending migrations. Safe to run from several processes at once (a session
 * advisory lock serializes them) and a no-op when the schema is current.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<MigrationOutcome> {
  const client = await handle.pool.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('tributary.migrate'))`);
    const migrator = new Migrator({
      db: handle.db,
      provider: engineMigrationProvider,
      migrationTableSchema: ENGINE_SCHEMA,
      migrationTableName: 'migration',
      migrationLockTableName: 'migration_lock',
      // Migration numbers are assigned to branches ahead of time, so they may land out of order.
      allowUnorderedMigrations: true,
    });
    const result: MigrationResultSet = await migrator.migrateToLatest();
    if (result.error) {
      const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(`migration ${failed ?? '(unknown)'} failed: ${(result.error as Error).message}`, { cause: result.error });
    }
    return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('tributary.migrate'))`).catch(() => {});
    client.release();
  }
}
