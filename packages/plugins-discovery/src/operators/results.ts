import type { CountyConfig } from '../config/county-config.js';

/** Result of `discovery.validateConfig`: what the config says, in short. */
export interface ValidateConfigResult {
  readonly config: string;
  readonly file: string;
  readonly county: string;
  readonly name: string;
  readonly state: string;
  readonly source: string;
  readonly renderer: CountyConfig['renderer'];
  readonly startUrls: readonly string[];
  readonly maxPagesPerRun: number;
  readonly requestsPerSecond: number;
  readonly maxConcurrency: number;
}

/** Result of `discovery.scrape`. */
export interface ScrapeResult {
  /** `discovery.scrape_run.id`, which `discovery.validateScrape` reads. */
  readonly scrapeId: number;
  readonly config: string;
  readonly county: string;
  readonly source: string;
  readonly renderer: CountyConfig['renderer'];
  readonly pagesFetched: number;
  readonly listingsFound: number;
  readonly valid: number;
  readonly rejected: number;
  readonly inserted: number;
  readonly seenAgain: number;
  readonly priceChanges: number;
  readonly failedPages: number;
  readonly retries: number;
  readonly skippedByRobots: number;
  readonly capped: boolean;
  readonly durationMs: number;
  readonly pagesPerSecond: number;
}
