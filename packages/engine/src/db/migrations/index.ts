import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-audit-log.js';
import * as m0003 from './0003-scheduling.js';
import * as m0005 from './0005-web-auth.js';
import * as m0006 from './0006-sensors.js';
import * as m0007 from './0007-assets-deadlines.js';
import * as m0008 from './0008-xcom-offload.js';

/** The engine's migrations, in order. Names sort in the order they apply. */
export const ENGINE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': m0001,
  '0002-audit-log': m0002,
  '0003-scheduling': m0003,
  '0005-web-auth': m0005,
  '0006-sensors': m0006,
  '0007-assets-deadlines': m0007,
  '0008-xcom-offload': m0008,
});

/** Provides {@link ENGINE_MIGRATIONS} to kysely's `Migrator` without reading the file system. */
export const engineMigrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...ENGINE_MIGRATIONS }),
};
