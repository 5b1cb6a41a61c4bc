import { z } from 'zod';

const county = z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a county config id (lower-case letters, digits and _)');
/** Folder of the county configs, relative to the project directory. */
const configDir = z.string().min(1);

/** Arguments of `discovery.validateConfig`. */
export const validateConfigArgs = z
  .object({
    /** County config id; defaults to the run's `county` param. */
    county: county.optional(),
    configDir: configDir.optional(),
  })
  .strict();

/** Arguments of `discovery.scrape`. */
export const scrapeArgs = z
  .object({
    /** County config id; defaults to the run's `county` param. */
    county: county.optional(),
    configDir: configDir.optional(),
    /** Scrape this base URL instead of the config's `site.baseUrl`; defaults to the run's `baseUrl` param when set. */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Lower the config's `limits.maxPagesPerRun` for this task. */
    maxPages: z.number().int().positive().optional(),
    /**
     * Listings written per transaction.
     * @defaultValue 200
     */
    batchSize: z.number().int().positive().max(5000).optional(),
  })
  .strict();

/** Arguments of `discovery.validateScrape`. */
export const validateScrapeArgs = z
  .object({
    /** County config id; defaults to the run's `county` param. */
    county: county.optional(),
    configDir: configDir.optional(),
    /** The upstream task whose result names the scrape to validate. */
    scrapeTask: z.string().min(1).default('scrape'),
  })
  .strict();

export type ValidateConfigArgs = z.input<typeof validateConfigArgs>;
export type ScrapeArgs = z.input<typeof scrapeArgs>;
export type ValidateScrapeArgs = z.input<typeof validateScrapeArgs>;
