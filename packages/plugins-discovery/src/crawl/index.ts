/**
 * The crawler itself, for use without the engine (what `discovery.scrape` runs). Importing it loads
 * crawlee; `renderer: browser` also loads playwright-core when a crawl starts.
 * @packageDocumentation
 */
export { retryDelayMs } from './backoff.js';
export { crawlListings, type CrawlOptions, type CrawlStats, type FailedPage } from './crawl.js';
export { crawleeLog, type CrawlLogger } from './crawlee-log.js';
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, startUrlsOf } from './options.js';
export { SiteRateLimiter, type SiteLimits } from './rate-limit.js';
