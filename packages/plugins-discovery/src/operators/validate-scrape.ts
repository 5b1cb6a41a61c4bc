import { TributaryError, type PluginRuntime, type TaskContext } from '@tributary/engine';
import type { z } from 'zod';
import { ScrapeValidationError } from '../errors.js';
import { computeScrapeMetrics, type ScrapeMetrics } from '../store/metrics.js';
import { findScrapeRun, saveScrapeMetrics } from '../store/scrape-runs.js';
import type { DiscoveryTables } from '../store/tables.js';
import type { validateScrapeArgs } from './args.js';
import { countyConfigFor } from './context.js';

/**
 * `discovery.validateScrape`: measure the scrape named by the upstream `scrapeTask`'s result (or,
 * without one, this DAG run's latest successful scrape of the county), store the metrics with the
 * scrape, and fail when a check of the county's `validation` fails. The metrics are the result.
 */
export async function validateScrape(args: z.output<typeof validateScrapeArgs>, context: TaskContext, runtime: PluginRuntime): Promise<ScrapeMetrics> {
  const { id, config } = await countyConfigFor('validateScrape', args, context, runtime);
  const db = runtime.database<DiscoveryTables>();
  const upstream = (context.upstream as Record<string, unknown>)[args.scrapeTask] as { scrapeId?: unknown } | undefined;
  const scrapeId = typeof upstream?.scrapeId === 'number' ? upstream.scrapeId : undefined;
  const scrape = await findScrapeRun(db, scrapeId ? { id: scrapeId } : { config: id, dagId: context.dagId, runId: context.runId });
  if (!scrape) {
    throw new TributaryError('DISCOVERY_NO_SCRAPE', `county '${id}': no scrape to validate (upstream task '${args.scrapeTask}' returned no scrapeId, and run ${context.runId} has no successful scrape of it)`);
  }
  const metrics = await computeScrapeMetrics(db, scrape, config.validation);
  await saveScrapeMetrics(db, scrape.id, metrics);
  for (const check of metrics.checks) {
    if (check.ok) context.log.info({ check: check.name }, `ok: ${check.name}: ${check.detail}`);
    else context.log.warn({ check: check.name }, `FAILED: ${check.name}: ${check.detail}`);
  }
  if (!metrics.ok) throw new ScrapeValidationError(id, metrics.checks.filter((c) => !c.ok));
  return metrics;
}
