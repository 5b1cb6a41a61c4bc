import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTaskContext } from '@tributary/engine/testing';
import { discoveryPlugin, loadCountyConfig, validateListing, type CountyConfig, type ScrapeResult } from '@tributary/plugins-discovery';
import { crawlListings } from '@tributary/plugins-discovery/crawler';
import { startListingsSite } from '@tributary/plugins-discovery/listings-site';
import type { BenchResult } from '../report.js';
import { benchEngine, workFolder, type Scenario } from '../scenario.js';

const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../..');

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** The shipped county config, with the politeness limits lifted: the bench measures the crawler, not the rate limit. */
async function unthrottled(id: 'king_wa' | 'king_wa_browser', concurrency: number): Promise<CountyConfig> {
  const { config } = await loadCountyConfig(id, { projectDir: REPO_DIR });
  return { ...config, limits: { ...config.limits, maxPagesPerRun: 100_000, requestsPerSecond: 1_000, maxConcurrency: concurrency } };
}

/** Crawl the local site once with a config; listings are validated but not stored. */
async function crawl(config: CountyConfig, baseUrl: string): Promise<{ pages: number; listings: number; ms: number }> {
  let listings = 0;
  const stats = await crawlListings({
    config,
    baseUrl,
    log: quiet,
    onListing: async (listing) => {
      if (validateListing(listing, { state: config.state }).ok) listings += 1;
    },
  });
  if (stats.failedPages.length > 0) throw new Error(`discovery bench: ${stats.failedPages.length} pages failed, first: ${stats.failedPages[0]!.error}`);
  return { pages: stats.pagesFetched, listings, ms: stats.durationMs };
}

/**
 * `discovery`: pages per second of the discovery plugin's crawlers on the local listings site (real
 * King County sales; list pages and every detail page): CheerioCrawler on the server-rendered
 * variant, PlaywrightCrawler with Chromium (images, fonts and styles blocked) on the
 * JavaScript-rendered one, and the whole `discovery.scrape` operator (validating and upserting
 * into PostgreSQL) on the static variant. Rate limits are lifted; concurrency 8 static, 4 browser.
 */
export const discovery: Scenario = {
  name: 'discovery',
  description: 'listing crawlers on the local site: pages/s static (Cheerio), browser (Chromium), static scrape into Postgres',
  async run(ctx) {
    const staticListings = ctx.quick ? 300 : 2_000;
    const browserListings = ctx.quick ? 60 : 300;
    const site = await startListingsSite({ limit: Math.max(staticListings, browserListings), pageSize: 20 });
    const results: BenchResult[] = [];
    const add = (system: string, metric: string, value: number, unit: string): void => void results.push({ scenario: 'discovery', system, metric, value, unit });
    try {
      const staticConfig = await unthrottled('king_wa', 8);
      const limited = (config: CountyConfig, listings: number): CountyConfig => ({ ...config, limits: { ...config.limits, maxPagesPerRun: Math.ceil(listings / 20) + listings } });

      await crawl(limited(staticConfig, 40), `${site.url}/static/`); // warm-up: module loading, JIT
      const cheerio = await crawl(limited(staticConfig, staticListings), `${site.url}/static/`);
      ctx.log(`static: ${cheerio.pages} pages, ${cheerio.listings} listings in ${cheerio.ms} ms`);
      add('cheerio', 'pages', cheerio.pages, 'pages');
      add('cheerio', 'pages_per_s', (cheerio.pages / cheerio.ms) * 1000, 'pages/s');

      const browserConfig = await unthrottled('king_wa_browser', 4);
      const chromium = await crawl(limited(browserConfig, browserListings), `${site.url}/app/`);
      ctx.log(`browser: ${chromium.pages} pages, ${chromium.listings} listings in ${chromium.ms} ms (includes launching Chromium)`);
      add('chromium', 'pages', chromium.pages, 'pages');
      add('chromium', 'pages_per_s', (chromium.pages / chromium.ms) * 1000, 'pages/s');

      // The operator as a worker runs it: crawl, validate, upsert in batches, record the scrape.
      const folder = workFolder('discovery');
      const { engine, close } = await benchEngine(ctx, { projectDir: REPO_DIR, dagsFolders: [join(REPO_DIR, 'dags')], plugins: [discoveryPlugin] });
      try {
        const scrape = await engine.plugins.resolve('discovery.scrape', null);
        const context = createTaskContext({ dagId: 'bench', runId: 'bench', taskId: 'scrape' });
        // Written as JSON, which is YAML too: the operator reads it like any county config.
        folder.write('bench.yaml', JSON.stringify(limited(staticConfig, staticListings)));
        const result = (await scrape({ county: 'bench', configDir: relative(REPO_DIR, folder.dir), baseUrl: `${site.url}/static/` }, context)) as ScrapeResult;
        ctx.log(`static scrape into Postgres: ${result.pagesFetched} pages, ${result.inserted} listings inserted in ${result.durationMs} ms`);
        add('cheerio+postgres', 'pages_per_s', (result.pagesFetched / result.durationMs) * 1000, 'pages/s');
        add('cheerio+postgres', 'listings_per_s', (result.inserted / result.durationMs) * 1000, 'listings/s');
      } finally {
        await close();
        folder.remove();
      }
    } finally {
      await site.close();
    }
    return results;
  },
};
