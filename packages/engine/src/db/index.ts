export { connectDatabase, redactUrl, type ConnectOptions, type DatabaseHandle } from './connect.js';
export { startEmbeddedPostgres, type EmbeddedPostgresConfig, type EmbeddedPostgresHandle } from './embedded.js';
export { migrateDatabase, type MigrationOutcome } from './migrate.js';
export { ENGINE_MIGRATIONS } from './migrations/index.js';
export * from './schema.js';
export { withTransaction } from './transaction.js';
