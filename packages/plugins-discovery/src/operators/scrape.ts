import { toError, type PluginRuntime, type TaskContext } from '@tributary/engine';
import type { z } from 'zod';
import { crawlListings, type CrawlStats } from '../crawl/crawl.js';
import { ScrapeFailedError } from '../errors.js';
import { ListingWriter } from '../store/listing-writer.js';
import type { ScrapeStats } from '../store/metrics.js';
import { finishScrapeRun, startScrapeRun } from '../store/scrape-runs.js';
import type { DiscoveryTables } from '../store/tables.js';
import type { scrapeArgs } from './args.js';
import { countyConfigFor, stringParam } from './context.js';
import type { ScrapeResult } from './results.js';

/** Why a finished crawl counts as a failed scrape, or null when it does not. */
function failureOf(crawl: CrawlStats): string | null {
  const list = crawl.failedPages.filter((p) => p.kind === 'list');
  if (crawl.pagesFetched === 0) {
    if (crawl.skippedByRobots > 0 && list.length === 0) return `robots.txt disallows the start pages (${crawl.skippedByRobotsSample.slice(0, 3).join(', ')})`;
    const first = list[0];
    return first ? `the site could not be read: ${first.url} failed after ${first.retries} retries: ${first.error}` : 'no page could be fetched';
  }
  if (list.length > 0) {
    const first = list[0]!;
    return `${list.length} list page(s) failed after their retries, so pagination stopped early: ${first.url}: ${first.error}`;
  }
  return null;
}

/**
 * `discovery.scrape`: crawl the county's site and store what it finds. Listings are validated and
 * written in batches as they are read, so an interrupted scrape keeps what it stored; the scrape
 * is recorded in `discovery.scrape_run` with its stats, and fails (after storing) when the site
 * could not be read or list pages failed after their retries.
 */
export async function scrape(args: z.output<typeof scrapeArgs>, context: TaskContext, runtime: PluginRuntime): Promise<ScrapeResult> {
  const { id, file, config: loaded } = await countyConfigFor('scrape', args, context, runtime);
  const config = args.maxPages ? { ...loaded, limits: { ...loaded.limits, maxPagesPerRun: Math.min(args.maxPages, loaded.limits.maxPagesPerRun) } } : loaded;
  const baseUrl = args.baseUrl ?? stringParam(context, 'baseUrl');
  const db = runtime.database<DiscoveryTables>();
  const scrapeId = await startScrapeRun(
    db,
    { config: id, county: config.county, source: config.source, renderer: config.renderer },
    { dagId: context.dagId, runId: context.runId, taskId: context.taskId, tryNumber: context.tryNumber },
  );
  context.log.info({ config: id, file, scrapeId, renderer: config.renderer, baseUrl: baseUrl ?? config.site.baseUrl }, `scraping ${config.name}, ${config.state} (${id})`);

  // Stop crawling when the task is aborted, or when storing fails (nothing more could be kept).
  const stop = new AbortController();
  const signal = AbortSignal.any([context.signal, stop.signal]);
  const writer = new ListingWriter(db, { source: config.source, county: config.county, scrapeId, state: config.state }, {
    ...(args.batchSize ? { batchSize: args.batchSize } : {}),
    onError: (error) => stop.abort(error),
  });
  let crawl: CrawlStats | undefined;
  try {
    crawl = await crawlListings({ config, ...(baseUrl ? { baseUrl } : {}), log: context.log, signal, onListing: (listing) => writer.add(listing) });
    const written = await writer.close();
    const stats: ScrapeStats = { crawl, written };
    const failure = failureOf(crawl);
    await finishScrapeRun(db, scrapeId, { state: failure ? 'failed' : 'success', stats, ...(failure ? { error: failure } : {}) });
    context.log.info(
      { scrapeId, pages: crawl.pagesFetched, listings: crawl.listingsFound, ...written, failedPages: crawl.failedPages.length, skippedByRobots: crawl.skippedByRobots, capped: crawl.capped, pagesPerSecond: crawl.pagesPerSecond },
      `scraped ${crawl.pagesFetched} pages in ${(crawl.durationMs / 1000).toFixed(1)} s: ${written.inserted} new, ${written.seenAgain} seen again, ${written.priceChanges} price changes, ${written.rejected} rejected`,
    );
    if (failure) throw new ScrapeFailedError(id, failure);
    return {
      scrapeId,
      config: id,
      county: config.county,
      source: config.source,
      renderer: config.renderer,
      pagesFetched: crawl.pagesFetched,
      listingsFound: crawl.listingsFound,
      valid: written.valid,
      rejected: written.rejected,
      inserted: written.inserted,
      seenAgain: written.seenAgain,
      priceChanges: written.priceChanges,
      failedPages: crawl.failedPages.length,
      retries: crawl.retries,
      skippedByRobots: crawl.skippedByRobots,
      capped: crawl.capped,
      durationMs: crawl.durationMs,
      pagesPerSecond: crawl.pagesPerSecond,
    };
  } catch (error) {
    if (!(error instanceof ScrapeFailedError)) {
      // Keep what was stored; record why the scrape ended.
      const written = await writer.close().catch(() => writer.counts);
      const cause = stop.signal.aborted ? toError(stop.signal.reason) : toError(error);
      await finishScrapeRun(db, scrapeId, { state: 'failed', stats: { crawl: crawl ?? null, written }, error: cause.message }).catch(() => {});
      throw cause;
    }
    throw error;
  }
}
