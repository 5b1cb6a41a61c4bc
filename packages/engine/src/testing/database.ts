import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectDatabase } from '../db/connect.js';
import { migrateDatabase } from '../db/migrate.js';
import { TaskQueue } from '../queue/task-queue.js';

/** A database made for one test file; `drop()` removes it. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** `serverUrl` with its database name replaced. */
export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Create (or re-create) `template`: a database with the engine's schema and the task queue's schema
 * installed, from which {@link createTestDatabase} clones a fresh database in milliseconds.
 */
export async function prepareTemplateDatabase(serverUrl: string, template: string): Promise<void> {
  await admin(serverUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quote(template)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quote(template)}`);
  });
  const url = withDatabase(serverUrl, template);
  const handle = connectDatabase(url, { max: 2 });
  try {
    await migrateDatabase(handle);
  } finally {
    await handle.close();
  }
  const queue = new TaskQueue({ connectionString: url, maxConnections: 2 });
  await queue.start();
  await queue.ensureQueue('default');
  await queue.stop();
}

/** Drop a template made by {@link prepareTemplateDatabase}. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await admin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`));
}

/** A fresh, migrated database cloned from `template` on the server at `serverUrl`. */
export async function createTestDatabase(serverUrl: string, template: string): Promise<TestDatabase> {
  const name = `tributary_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, (client) => client.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`));
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => dropDatabase(serverUrl, name),
  };
}
