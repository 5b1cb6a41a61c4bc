import { z } from 'zod';

/** Fields of a listing that map to columns of `prospect_queue`; anything else goes under `fields.extra`. */
export const LISTING_FIELDS = [
  'sourceId',
  'address',
  'city',
  'state',
  'zip',
  'price',
  'beds',
  'baths',
  'livingAreaSqft',
  'lotSizeSqft',
  'yearBuilt',
  'latitude',
  'longitude',
  'listedOn',
  'listingUrl',
  'ownerName',
  'ownerMailingAddress',
] as const;

/** A field of a listing that maps to a `prospect_queue` column. */
export type ListingField = (typeof LISTING_FIELDS)[number];

/** Default `User-Agent` of the crawlers (robots.txt rules for it apply). */
export const DEFAULT_USER_AGENT = 'TributaryDiscovery/0.1 (+https://github.com/tributary; listings research)';

/** Defaults of a county config's `limits`. */
export const DEFAULT_LIMITS = Object.freeze({
  maxPagesPerRun: 1000,
  maxConcurrency: 4,
  requestsPerSecond: 2,
  maxRetries: 3,
  retryBackoffMs: 1000,
  maxRetryBackoffMs: 30_000,
  requestTimeoutSecs: 30,
});

/** Defaults of a county config's `validation`. */
export const DEFAULT_VALIDATION = Object.freeze({ minListings: 1, maxRejectedRatio: 0.1, maxFailedPagesRatio: 0.05 });

function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** One step turning the text a selector found into a value. */
const transformSchema = z.union([
  z.enum(['trim', 'number', 'lowercase', 'uppercase', 'absoluteUrl', 'date']),
  z.object({ regex: z.string().refine(validRegex, 'not a valid regular expression'), group: z.number().int().min(0).default(1) }).strict(),
  z.object({ replace: z.string().refine(validRegex, 'not a valid regular expression'), with: z.string().default('') }).strict(),
  z.object({ multiply: z.number() }).strict(),
  z.object({ map: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) }).strict(),
]);

/** Where a field's value is on the page: a selector (text of the first match), or a selector and an attribute. */
const fieldSpecSchema = z.union([
  z.string().min(1),
  z
    .object({
      /** Relative to the list item (or the detail page); absent: the item itself. */
      selector: z.string().min(1).optional(),
      /** Read this attribute instead of the text. */
      attribute: z.string().min(1).optional(),
      transform: z.union([transformSchema, z.array(transformSchema)]).optional(),
    })
    .strict(),
]);

const optionalField = fieldSpecSchema.optional();
const fieldsSchema = z
  .object({
    sourceId: optionalField,
    address: optionalField,
    city: optionalField,
    state: optionalField,
    zip: optionalField,
    price: optionalField,
    beds: optionalField,
    baths: optionalField,
    livingAreaSqft: optionalField,
    lotSizeSqft: optionalField,
    yearBuilt: optionalField,
    latitude: optionalField,
    longitude: optionalField,
    listedOn: optionalField,
    listingUrl: optionalField,
    ownerName: optionalField,
    ownerMailingAddress: optionalField,
    /** Fields kept in the listing's raw JSON only. */
    extra: z.record(z.string(), fieldSpecSchema).optional(),
  } satisfies Record<ListingField | 'extra', z.ZodType>)
  .strict();

const selectorList = z.string().min(1);

/**
 * Schema of a county config file (`dags/config/counties/<id>.yaml`; the file name is the config's
 * id, what the discovery DAG's `county` param names): where one site's listings are, how to read
 * them, how politely to crawl, and what a good scrape looks like.
 */
export const countyConfigSchema = z
  .object({
    /** Id of the county, stored with each listing: `king_wa`. Several configs (sites) may share one county. */
    county: z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected lower-case letters, digits and _'),
    name: z.string().min(1),
    state: z.string().regex(/^[A-Z]{2}$/, 'expected a two-letter state code'),
    /** `prospect_queue.source`: listings are unique per source and source id. */
    source: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected lower-case letters, digits, ".", "_" or "-"'),
    /** `static`: fetch HTML and parse it (CheerioCrawler); `browser`: render in Chromium (PlaywrightCrawler). */
    renderer: z.enum(['static', 'browser']),
    site: z
      .object({
        baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
        /** First list pages, relative to `baseUrl`. */
        startUrls: z.array(z.string().min(1)).min(1),
      })
      .strict(),
    list: z
      .object({
        /** One element per listing. */
        itemSelector: selectorList,
        /** Link to the next list page. */
        nextPageSelector: selectorList.optional(),
        /** Link from a list item to its detail page (required when `detail` is set). */
        detailLinkSelector: selectorList.optional(),
        /** Browser: wait for this before reading the page. */
        waitForSelector: selectorList.optional(),
        fields: fieldsSchema.prefault({}),
      })
      .strict(),
    detail: z
      .object({
        waitForSelector: selectorList.optional(),
        fields: fieldsSchema,
      })
      .strict()
      .optional(),
    limits: z
      .object({
        /** Most pages (list and detail, tries not counted) fetched in one run. */
        maxPagesPerRun: z.number().int().positive().default(DEFAULT_LIMITS.maxPagesPerRun),
        /** Most requests to the site in flight at once. */
        maxConcurrency: z.number().int().min(1).max(64).default(DEFAULT_LIMITS.maxConcurrency),
        /** Most requests started per second (evenly spaced). */
        requestsPerSecond: z.number().positive().max(1000).default(DEFAULT_LIMITS.requestsPerSecond),
        /** Retries of a failed request. */
        maxRetries: z.number().int().min(0).max(10).default(DEFAULT_LIMITS.maxRetries),
        /** Wait before the first retry; doubled for each later one. */
        retryBackoffMs: z.number().int().min(0).default(DEFAULT_LIMITS.retryBackoffMs),
        maxRetryBackoffMs: z.number().int().min(0).max(300_000).default(DEFAULT_LIMITS.maxRetryBackoffMs),
        requestTimeoutSecs: z.number().positive().max(600).default(DEFAULT_LIMITS.requestTimeoutSecs),
      })
      .strict()
      .prefault({}),
    /** `respect`: skip what the site's robots.txt disallows for `userAgent`. */
    robotsTxt: z.enum(['respect', 'ignore']).default('respect'),
    userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
    browser: z
      .object({
        /** Resource types not loaded (faster pages, less load on the site). */
        blockResources: z.array(z.enum(['image', 'font', 'stylesheet', 'media'])).default(['image', 'font', 'stylesheet', 'media']),
        navigationTimeoutSecs: z.number().positive().max(600).default(30),
      })
      .strict()
      .prefault({}),
    validation: z
      .object({
        /** Fewer valid listings than this fails the validation. */
        minListings: z.number().int().min(0).default(DEFAULT_VALIDATION.minListings),
        /** Share of scraped listings rejected above which the validation fails. */
        maxRejectedRatio: z.number().min(0).max(1).default(DEFAULT_VALIDATION.maxRejectedRatio),
        /** Share of pages that failed after their retries above which the validation fails. */
        maxFailedPagesRatio: z.number().min(0).max(1).default(DEFAULT_VALIDATION.maxFailedPagesRatio),
        /** Least share of this run's listings that must have each field. */
        minCompleteness: z.partialRecord(z.enum(LISTING_FIELDS), z.number().min(0).max(1)).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const fields = { ...config.list.fields, ...config.detail?.fields };
    if (!fields.sourceId) ctx.addIssue({ code: 'custom', path: ['list', 'fields'], message: 'needs sourceId (in list.fields or detail.fields) to deduplicate listings; got none' });
    if (config.detail && !config.list.detailLinkSelector) {
      ctx.addIssue({ code: 'custom', path: ['list'], message: 'needs detailLinkSelector to reach the detail pages that `detail` describes; got none' });
    }
    if (config.renderer === 'static') {
      if (config.list.waitForSelector) ctx.addIssue({ code: 'custom', path: ['list', 'waitForSelector'], message: 'applies only to renderer: browser; got renderer: static' });
      if (config.detail?.waitForSelector) ctx.addIssue({ code: 'custom', path: ['detail', 'waitForSelector'], message: 'applies only to renderer: browser; got renderer: static' });
    }
    if (config.limits.maxRetryBackoffMs < config.limits.retryBackoffMs) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'maxRetryBackoffMs'], message: `must be at least retryBackoffMs (${config.limits.retryBackoffMs}); got ${config.limits.maxRetryBackoffMs}` });
    }
  });

/** A county config as written in its file. */
export type CountyConfigInput = z.input<typeof countyConfigSchema>;
/** A county config with defaults applied. */
export type CountyConfig = z.output<typeof countyConfigSchema>;
/** Where one field is and how to read it. */
export type FieldSpec = z.output<typeof fieldSpecSchema>;
/** One step of a field's transform. */
export type FieldTransform = z.output<typeof transformSchema>;
/** The fields read from a list item or a detail page. */
export type FieldSpecs = z.output<typeof fieldsSchema>;
