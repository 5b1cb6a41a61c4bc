import { operatorFactory } from '@tributary/engine';
import type { ScrapeMetrics } from '../store/metrics.js';
import { scrapeArgs, validateConfigArgs, validateScrapeArgs, type ScrapeArgs, type ValidateConfigArgs, type ValidateScrapeArgs } from './args.js';
import type { ScrapeResult, ValidateConfigResult } from './results.js';

/** npm package of the discovery plugin: what its operator specs name so workers can import it. */
export const DISCOVERY_PACKAGE = '@tributary/plugins-discovery';

/**
 * A task that reads and validates a county config (`dags/config/counties/<county>.yaml`), failing
 * with every problem's file, line and field. Its result summarizes the config.
 *
 * @example
 * ```ts
 * discovery.task('validate_config', validateCountyConfig({}));  // county from the run's params
 * ```
 */
export const validateCountyConfig = operatorFactory<ValidateConfigArgs, ValidateConfigResult>({
  operator: 'discovery.validateConfig',
  package: DISCOVERY_PACKAGE,
  args: validateConfigArgs,
});

/**
 * A task that scrapes one county's listing site into `discovery.prospect_queue` (invalid listings
 * into `discovery.rejected_listing` with their reasons). Fails when the site cannot be read.
 */
export const scrapeCounty = operatorFactory<ScrapeArgs, ScrapeResult>({ operator: 'discovery.scrape', package: DISCOVERY_PACKAGE, args: scrapeArgs });

/**
 * A task that measures the scrape of its upstream `scrape` task (counts, completeness per field,
 * duplicates, rejections) against the county's `validation` rules: the metrics are its result,
 * and it fails when a check fails.
 */
export const validateScrape = operatorFactory<ValidateScrapeArgs, ScrapeMetrics>({
  operator: 'discovery.validateScrape',
  package: DISCOVERY_PACKAGE,
  args: validateScrapeArgs,
});
