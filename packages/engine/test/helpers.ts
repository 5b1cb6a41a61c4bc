import { FIXTURE_DAGS, PACKAGE_DIR } from './support/common.js';
import { inject } from 'vitest';
import type { Tributary } from '../src/engine.js';
import { createTestDatabase, openTestEngine, type TestDatabase, type TestEngineOptions } from '../src/testing/index.js';

/** A fresh database cloned from the template, and an engine on it. */
export interface TestSetup {
  engine: Tributary;
  database: TestDatabase;
  /** Close the engine and drop the database. */
  close(): Promise<void>;
}

/** Open an engine on a fresh database of the server this test project runs against. */
export async function setupEngine(options: Partial<TestEngineOptions> = {}): Promise<TestSetup> {
  const database = await createTestDatabase(inject('postgresServerUrl'), inject('templateDatabase'));
  const engine = await openTestEngine({ projectDir: PACKAGE_DIR, dagsFolders: [FIXTURE_DAGS], ...options, databaseUrl: database.url });
  return {
    engine,
    database,
    close: async () => {
      await engine.close();
      await database.drop();
    },
  };
}

export { eventually, FIXTURE_DAGS, PACKAGE_DIR, tempDagFolder } from './support/common.js';
