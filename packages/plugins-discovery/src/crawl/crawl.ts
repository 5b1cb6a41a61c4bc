import { setTimeout as sleep } from 'node:timers/promises';
import { CheerioCrawler, Configuration, NonRetryableError, type RequestOptions } from '@crawlee/cheerio';
import type { CheerioAPI } from 'cheerio';
import type { Route } from 'playwright-core';
import { MemoryStorage } from '@crawlee/memory-storage';
import type { CountyConfig } from '../config/county-config.js';
import { extractFields, mergeFields, type ExtractedFields } from '../extract/fields.js';
import type { ListingCandidate } from '../extract/listing.js';
import { retryDelayMs } from './backoff.js';
import { crawleeLog, type CrawlLogger } from './crawlee-log.js';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, startUrlsOf } from './options.js';
import { SiteRateLimiter } from './rate-limit.js';

/** Options of {@link crawlListings}. */
export interface CrawlOptions {
  /** The county's config (defaults applied). */
  readonly config: CountyConfig;
  /** Use this instead of the config's `site.baseUrl` (a mirror, a test server). */
  readonly baseUrl?: string;
  /** Called with each listing read; awaited, so a slow store slows the crawl. */
  readonly onListing: (listing: ListingCandidate) => Promise<void>;
  readonly log: CrawlLogger;
  /** Aborting stops the crawl (pages in progress finish) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** @defaultValue {@link DEFAULT_CHROMIUM_PATH} */
  readonly chromiumPath?: string;
}

/** A page that still failed after its retries. */
export interface FailedPage {
  readonly url: string;
  readonly kind: 'list' | 'detail';
  readonly error: string;
  readonly retries: number;
}

/** What a crawl did. */
export interface CrawlStats {
  readonly renderer: CountyConfig['renderer'];
  readonly startUrls: readonly string[];
  /** Pages fetched and read (list and detail). */
  readonly pagesFetched: number;
  readonly listPages: number;
  readonly detailPages: number;
  /** List pages without a single item (a wrong `itemSelector`, or past the end). */
  readonly emptyListPages: number;
  /** Listings handed to `onListing`. */
  readonly listingsFound: number;
  /** Listings seen more than once in this crawl (on several list pages). */
  readonly duplicateListings: number;
  /** Requests retried (each retry counted). */
  readonly retries: number;
  readonly failedPages: readonly FailedPage[];
  /** Requests skipped because robots.txt disallows them. */
  readonly skippedByRobots: number;
  /** Up to 20 of them. */
  readonly skippedByRobotsSample: readonly string[];
  /** The run stopped at `limits.maxPagesPerRun` with pages left. */
  readonly capped: boolean;
  readonly durationMs: number;
  readonly pagesPerSecond: number;
}

const LIST = 'LIST';
/** How often a running crawl logs its progress. */
const PROGRESS_INTERVAL_MS = 30_000;
const DETAIL = 'DETAIL';

interface DetailUserData {
  list: ExtractedFields;
  listPageUrl: string;
}

/** Statuses worth retrying; any other 4xx is final (the page is gone or forbidden). */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Crawl a county's listing site with crawlee: `CheerioCrawler` for `renderer: static`,
 * `PlaywrightCrawler` on the system Chromium for `renderer: browser`. Follows pagination and
 * detail links, honours robots.txt, spaces requests per host, retries failures with exponential
 * backoff, stops at the page cap, and keeps its request queue in memory (nothing is written to
 * the working directory). Resolves with what it did; listings go to `onListing` as they are read.
 */
export async function crawlListings(options: CrawlOptions): Promise<CrawlStats> {
  const { config, log, signal } = options;
  const { limits } = config;
  const started = performance.now();
  const startUrls = startUrlsOf(config, options.baseUrl);
  const limiter = new SiteRateLimiter({ requestsPerSecond: limits.requestsPerSecond });
  const seen = new Set<string>();
  const failedPages: FailedPage[] = [];
  const robotsSample: string[] = [];
  const counts = { listPages: 0, detailPages: 0, emptyListPages: 0, listingsFound: 0, duplicateListings: 0, retries: 0, skippedByRobots: 0, skippedByLimit: 0 };

  // A run-scoped, in-memory storage: crawlee's default writes ./storage in the working directory.
  const configuration = new Configuration({
    storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }),
    persistStorage: false,
    purgeOnStart: true,
  });

  async function readPage($: CheerioAPI, url: string, label: string, userData: Record<string, unknown>, addRequests: (requests: RequestOptions[], options?: { forefront?: boolean }) => Promise<unknown>): Promise<void> {
    if (label === DETAIL) {
      counts.detailPages += 1;
      const data = userData as unknown as DetailUserData;
      const detail = extractFields($, $.root(), config.detail!.fields, url);
      counts.listingsFound += 1;
      await options.onListing({ ...mergeFields(data.list, detail), listPageUrl: data.listPageUrl, detailPageUrl: url });
      return;
    }
    counts.listPages += 1;
    const items = $(config.list.itemSelector);
    if (items.length === 0) {
      counts.emptyListPages += 1;
      log.warn({ url, itemSelector: config.list.itemSelector }, 'list page has no listings');
    }
    const details: RequestOptions[] = [];
    for (const element of items.toArray()) {
      const item = $(element);
      const fields = extractFields($, item, config.list.fields, url);
      const href = config.list.detailLinkSelector ? item.find(config.list.detailLinkSelector).first().attr('href') : undefined;
      const detailUrl = href ? new URL(href, url).href : null;
      const key = typeof fields.fields.sourceId === 'string' || typeof fields.fields.sourceId === 'number' ? String(fields.fields.sourceId) : (detailUrl ?? JSON.stringify(fields));
      if (seen.has(key)) {
        counts.duplicateListings += 1;
        continue;
      }
      seen.add(key);
      if (config.detail && detailUrl) {
        details.push({ url: detailUrl, uniqueKey: detailUrl, label: DETAIL, userData: { list: fields, listPageUrl: url } satisfies DetailUserData });
      } else {
        counts.listingsFound += 1;
        await options.onListing({ ...fields, listPageUrl: url, detailPageUrl: detailUrl });
      }
    }
    // Detail pages first: with a page cap, a run ends with whole listings rather than half-read pages.
    if (details.length > 0) await addRequests(details, { forefront: true });
    const next = config.list.nextPageSelector ? $(config.list.nextPageSelector).first().attr('href') : undefined;
    if (next) await addRequests([{ url: new URL(next, url).href, label: LIST }]);
  }

  function checkStatus(status: number | undefined, url: string): void {
    if (status === undefined || status < 400) return;
    const message = `${url} answered HTTP ${status}`;
    throw retryableStatus(status) ? new Error(message) : new NonRetryableError(message);
  }

  const common = {
    maxRequestsPerCrawl: limits.maxPagesPerRun,
    maxConcurrency: limits.maxConcurrency,
    // Fixed concurrency: the rate limit, not the machine's load, decides how hard the site is hit.
    minConcurrency: limits.maxConcurrency,
    maxRequestRetries: limits.maxRetries,
    requestHandlerTimeoutSecs: limits.requestTimeoutSecs + config.browser.navigationTimeoutSecs,
    respectRobotsTxtFile: config.robotsTxt === 'respect' ? { userAgent: config.userAgent } : false,
    log: crawleeLog(log),
    statisticsOptions: { saveErrorSnapshots: false, logIntervalSecs: 60 },
    onSkippedRequest: ({ url, reason }: { url: string; reason: string }) => {
      if (reason === 'robotsTxt') {
        counts.skippedByRobots += 1;
        if (robotsSample.length < 20) robotsSample.push(url);
      } else if (reason === 'limit') {
        counts.skippedByLimit += 1;
      }
    },
    errorHandler: async ({ request }: { request: { retryCount: number; url: string } }, error: Error) => {
      counts.retries += 1;
      const delay = retryDelayMs(request.retryCount + 1, limits.retryBackoffMs, limits.maxRetryBackoffMs);
      log.warn({ url: request.url, retry: request.retryCount + 1, of: limits.maxRetries, delayMs: delay, error: error.message }, 'request failed; retrying after a backoff');
      await sleep(delay, undefined, signal ? { signal } : {}).catch(() => {});
    },
    failedRequestHandler: ({ request }: { request: { url: string; label?: string; retryCount: number } }, error: Error) => {
      failedPages.push({ url: request.url, kind: request.label === DETAIL ? 'detail' : 'list', error: error.message, retries: request.retryCount });
      log.error({ url: request.url, retries: request.retryCount, error: error.message }, 'page failed after its retries');
    },
  };

  type Runnable = { run(requests: RequestOptions[]): Promise<unknown>; stop(): void; requestQueue?: { isEmpty(): Promise<boolean> } };
  let crawler: Runnable;
  if (config.renderer === 'static') {
    crawler = new CheerioCrawler(
      {
        ...common,
        navigationTimeoutSecs: limits.requestTimeoutSecs,
        preNavigationHooks: [
          async ({ request }, gotOptions) => {
            gotOptions.headers = { ...gotOptions.headers, 'user-agent': config.userAgent };
            await limiter.wait(request.url);
          },
        ],
        requestHandler: async ({ request, $, response, addRequests }) => {
          checkStatus(response.statusCode, request.url);
          // crawlee loads its own (CommonJS) copy of cheerio; the API is the same.
          await readPage($ as unknown as CheerioAPI, request.loadedUrl ?? request.url, request.label ?? LIST, request.userData, addRequests);
        },
      },
      configuration,
    );
  } else {
    const [{ PlaywrightCrawler }, { chromium }] = await Promise.all([import('@crawlee/playwright'), import('playwright-core')]);
    const blocked = new Set<string>(config.browser.blockResources);
    crawler = new PlaywrightCrawler(
      {
        ...common,
        navigationTimeoutSecs: config.browser.navigationTimeoutSecs,
        headless: true,
        launchContext: {
          launcher: chromium,
          userAgent: config.userAgent,
          launchOptions: { executablePath: options.chromiumPath ?? DEFAULT_CHROMIUM_PATH, args: [...CHROMIUM_ARGS] },
        },
        // One browser for the whole crawl: no fingerprint injection, no retiring after 100 pages.
        browserPoolOptions: { useFingerprints: false, retireBrowserAfterPageCount: 1_000_000, maxOpenPagesPerBrowser: limits.maxConcurrency + 2 },
        preNavigationHooks: [
          async ({ page, request }, gotoOptions) => {
            if (gotoOptions) gotoOptions.waitUntil = 'domcontentloaded';
            if (blocked.size > 0) {
              await page.route('**/*', (route: Route) => (blocked.has(route.request().resourceType()) ? route.abort() : route.continue()));
            }
            await limiter.wait(request.url);
          },
        ],
        requestHandler: async ({ request, page, response, parseWithCheerio, addRequests }) => {
          checkStatus(response?.status(), request.url);
          const label = request.label ?? LIST;
          const waitFor = label === DETAIL ? config.detail?.waitForSelector : config.list.waitForSelector;
          if (waitFor) await page.waitForSelector(waitFor, { timeout: config.browser.navigationTimeoutSecs * 1000 });
          const $ = await parseWithCheerio();
          await readPage($ as unknown as CheerioAPI, request.loadedUrl ?? request.url, label, request.userData, addRequests);
        },
      },
      configuration,
    );
  }

  const onAbort = (): void => crawler.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  const progress = setInterval(() => {
    log.info({ listPages: counts.listPages, detailPages: counts.detailPages, listings: counts.listingsFound, retries: counts.retries, failedPages: failedPages.length }, `crawled ${counts.listPages + counts.detailPages} pages so far`);
  }, PROGRESS_INTERVAL_MS);
  progress.unref();
  try {
    await crawler.run(startUrls.map((url) => ({ url, label: LIST })));
  } finally {
    clearInterval(progress);
    signal?.removeEventListener('abort', onAbort);
    await limiter.stop();
  }
  signal?.throwIfAborted();
  const pending = crawler.requestQueue ? !(await crawler.requestQueue.isEmpty()) : false;
  const durationMs = performance.now() - started;
  const pagesFetched = counts.listPages + counts.detailPages;
  return {
    renderer: config.renderer,
    startUrls,
    pagesFetched,
    listPages: counts.listPages,
    detailPages: counts.detailPages,
    emptyListPages: counts.emptyListPages,
    listingsFound: counts.listingsFound,
    duplicateListings: counts.duplicateListings,
    retries: counts.retries,
    failedPages,
    skippedByRobots: counts.skippedByRobots,
    skippedByRobotsSample: robotsSample,
    capped: counts.skippedByLimit > 0 || pending,
    durationMs: Math.round(durationMs),
    pagesPerSecond: durationMs > 0 ? Math.round((pagesFetched / durationMs) * 1000 * 10) / 10 : 0,
  };
}
