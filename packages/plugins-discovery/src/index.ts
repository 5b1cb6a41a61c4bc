/**
 * @tributary/plugins-discovery — listing scrapers configured per county (crawlee: Cheerio for static
 * sites, Chromium for JavaScript-rendered ones), feeding `discovery.prospect_queue`.
 * @packageDocumentation
 */
export {
  countyConfigSchema,
  DEFAULT_LIMITS,
  DEFAULT_USER_AGENT,
  DEFAULT_VALIDATION,
  LISTING_FIELDS,
  type CountyConfig,
  type CountyConfigInput,
  type FieldSpec,
  type FieldSpecs,
  type FieldTransform,
  type ListingField,
} from './config/county-config.js';
export { DEFAULT_COUNTIES_DIR, listCountyConfigs, loadCountyConfig, type LoadedCountyConfig } from './config/load-county.js';
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, startUrlsOf } from './crawl/options.js';
export type { CrawlOptions, CrawlStats, FailedPage } from './crawl/crawl.js';
export type { CrawlLogger } from './crawl/crawlee-log.js';
export { CountyConfigNotFoundError, ScrapeFailedError, ScrapeValidationError } from './errors.js';
export { listingSchema, validateListing, type ListingCandidate, type ListingRaw, type RejectedListing, type RejectionReason, type ValidListing } from './extract/listing.js';
export { scrapeArgs, validateConfigArgs, validateScrapeArgs, type ScrapeArgs, type ValidateConfigArgs, type ValidateScrapeArgs } from './operators/args.js';
export { DISCOVERY_PACKAGE, scrapeCounty, validateCountyConfig, validateScrape } from './operators/factories.js';
export type { ScrapeResult, ValidateConfigResult } from './operators/results.js';
export { discoveryPlugin, discoveryPlugin as default } from './plugin.js';
export type { ScrapeCheck, ScrapeMetrics, ScrapeStats } from './store/metrics.js';
export { DISCOVERY_SCHEMA, discoveryMigrations } from './store/migrations.js';
export type { DiscoveryTables, PriceHistoryTable, ProspectQueueTable, RejectedListingTable, ScrapeRunTable } from './store/tables.js';

