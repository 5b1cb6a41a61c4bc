import { defineOperator, definePlugin, type PluginRuntime, type TaskContext } from '@tributary/engine';
import { sql } from 'kysely';
import { countyConfigSchema } from './config/county-config.js';
import { scrapeArgs, validateConfigArgs, validateScrapeArgs } from './operators/args.js';
import { DISCOVERY_PACKAGE } from './operators/factories.js';
import { discoveryRoutes } from './routes.js';
import { DISCOVERY_SCHEMA, discoveryMigrations } from './store/migrations.js';
import type { DiscoveryTables } from './store/tables.js';

// Implementations are imported on first use: DAG files import this package for its factories, and
// parsing them must not load crawlee or a browser driver.
const lazy =
  <A, R>(load: () => Promise<(args: A, context: TaskContext, runtime: PluginRuntime) => Promise<R>>) =>
  async (args: A, context: TaskContext, runtime: PluginRuntime): Promise<R> =>
    (await load())(args, context, runtime);

/**
 * The discovery plugin: scrapes listing sites configured per county into `discovery.prospect_queue`.
 * Operators `discovery.validateConfig`, `discovery.scrape` and `discovery.validateScrape`; tables in
 * the `discovery` schema; county config files checked by `tributary plugins check-config discovery`;
 * JSON routes under `/plugins/discovery/`; a health check of its tables.
 */
export const discoveryPlugin = definePlugin({
  name: 'discovery',
  version: '0.1.0',
  package: DISCOVERY_PACKAGE,
  schema: DISCOVERY_SCHEMA,
  migrations: discoveryMigrations,
  configSchema: countyConfigSchema,
  operators: {
    validateConfig: defineOperator({
      description: 'read and validate a county config (file, line and field of every problem)',
      args: validateConfigArgs,
      run: lazy(async () => (await import('./operators/validate-config.js')).validateConfig),
    }),
    scrape: defineOperator({
      description: "crawl a county's listing site (crawlee: Cheerio or Chromium) into discovery.prospect_queue",
      args: scrapeArgs,
      run: lazy(async () => (await import('./operators/scrape.js')).scrape),
    }),
    validateScrape: defineOperator({
      description: "measure a scrape (counts, completeness, duplicates, rejections) against the county's validation rules",
      args: validateScrapeArgs,
      run: lazy(async () => (await import('./operators/validate-scrape.js')).validateScrape),
    }),
  },
  routes: discoveryRoutes,
  healthChecks: {
    tables: async (runtime) => {
      const db = runtime.database<DiscoveryTables>();
      const row = await db.selectFrom('discovery.prospect_queue').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      const failed = await db
        .selectFrom('discovery.scrape_run')
        .select(['config', 'error'])
        .where('state', '=', 'failed')
        .where('started_at', '>', sql<Date>`now() - interval '1 day'`)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return { ok: true, detail: `${row.n} listings in discovery.prospect_queue${failed ? `; last failed scrape (24 h): ${failed.config}: ${failed.error ?? 'unknown error'}` : ''}` };
    },
  },
});
