import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { DatabaseHandle } from '../db/connect.js';
import { TributaryError } from '../errors.js';
import type { TributaryPlugin } from './plugin.js';

/** A plugin migration failed; the plugin's schema is left at the last migration that succeeded. */
export class PluginMigrationError extends TributaryError {
  constructor(plugin: string, migration: string, options: { cause?: unknown } = {}) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super('PLUGIN_MIGRATION_FAILED', `plugin '${plugin}': migration '${migration}' failed: ${reason}`, options);
  }
}

/**
 * Apply a plugin's pending migrations in its own schema, in name order, each once: applied names are
 * tracked in `<schema>.migration`, so running again is a no-op. A session advisory lock per plugin
 * serializes engines and workers starting at the same time. Returns the names applied now.
 */
export async function migratePlugin(handle: Pick<DatabaseHandle, 'pool' | 'db'>, plugin: TributaryPlugin): Promise<string[]> {
  const migrations = plugin.migrations;
  if (!migrations || Object.keys(migrations).length === 0) return [];
  const schema = plugin.schema!;
  const lock = `tributary.plugin.${plugin.name}`;
  const client = await handle.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(handle.db);
    const migrator = new Migrator({
      db: handle.db,
      provider: { getMigrations: async () => ({ ...migrations }) },
      migrationTableSchema: schema,
      migrationTableName: 'migration',
      migrationLockTableName: 'migration_lock',
    });
    const result = await migrator.migrateToLatest();
    if (result.error) {
      const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
      throw new PluginMigrationError(plugin.name, failed, { cause: result.error });
    }
    return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => {});
    client.release();
  }
}
