import { dag } from '@tributary/engine';
import { scrapeCounty, validateCountyConfig, validateScrape } from '@tributary/plugins-discovery';

/**
 * Off-market discovery (Phase 2 of the real-estate pipeline): every hour, scrape one county's
 * listing site into `discovery.prospect_queue` (status `new`), then check the scrape and report
 * its metrics. The county is a param: its config is `dags/config/counties/<county>.yaml`.
 *
 *   pnpm tributary dags trigger discovery_offmarket --params '{"county": "king_wa_browser"}'
 *   pnpm tributary dags test discovery_offmarket
 *
 * With `pnpm start`, the `listings-site` plugin serves the King County listings site these
 * configs point at (http://127.0.0.1:8790), so the scheduled runs work with no internet.
 */
const discovery = dag({
  id: 'discovery_offmarket',
  description: "Scrape a county's listing site into discovery.prospect_queue, validate the scrape, report its metrics",
  docs: 'validate_config → scrape → validate_data → send_metrics. Param `county` picks the config (dags/config/counties); `baseUrl` points it at another copy of the site.',
  schedule: '@hourly',
  startDate: '2025-01-01',
  catchup: false,
  // One scrape at a time: a slow hour must not stack scrapes of the same site.
  maxActiveRuns: 1,
  tags: ['real-estate', 'discovery'],
  params: {
    type: 'object',
    properties: {
      county: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', default: 'king_wa', description: 'county config id (file name in dags/config/counties)' },
      baseUrl: { type: ['string', 'null'], default: null, description: "scrape this base URL instead of the config's site.baseUrl" },
    },
    additionalProperties: false,
  },
  defaultTaskOptions: { retries: 0 },
});

const config = discovery.task('validate_config', validateCountyConfig({}));

const scraped = discovery.task('scrape', scrapeCounty({}), {
  upstream: [config],
  // Requests are retried with backoff inside the scrape; a scrape that still fails is retried whole.
  retries: 2,
  retryDelay: '2m',
  retryExponentialBackoff: true,
  executionTimeout: '45m',
});

const validated = discovery.task('validate_data', validateScrape({ scrapeTask: 'scrape' }), { upstream: [scraped] });

discovery.task('send_metrics', { upstream: [validated] }, ({ upstream, log }) => {
  const m = upstream.validate_data;
  const summary = {
    county: m.county,
    config: m.config,
    listings: m.listings,
    newListings: m.newListings,
    priceChanges: m.priceChanges,
    rejected: m.rejected,
    rejectedRatio: m.rejectedRatio,
    failedPages: m.failedPages,
    skippedByRobots: m.skippedByRobots,
    duplicates: m.duplicatesInScrape + m.duplicateAddresses,
    pagesPerSecond: m.pagesPerSecond,
    durationMs: m.durationMs,
  };
  // One structured line per scrape: what a log-based metrics pipeline (Loki, CloudWatch) picks up.
  log.info({ metric: 'discovery.scrape', ...summary }, `discovery ${m.config}: ${m.listings} listings (${m.newListings} new, ${m.priceChanges} price changes), ${m.rejected} rejected`);
  return summary;
});

export default discovery;
