import { z } from 'zod';
import type { ListingField } from '../config/county-config.js';
import type { ExtractedFields } from './fields.js';
import type { FieldValue } from './transforms.js';

const MAX_YEAR = new Date().getUTCFullYear() + 1;

function number(what: string, min: number, max: number, options: { int?: boolean } = {}) {
  const base = z.number({ error: `expected ${what} as a number` });
  return (options.int ? base.int({ error: `expected ${what} as a whole number` }) : base)
    .min(min, { error: `expected ${what} of at least ${min}` })
    .max(max, { error: `expected ${what} of at most ${max}` });
}

const text = (what: string) => z.string({ error: `expected ${what} as text` }).min(1, { error: `expected ${what}` });

/** What a valid listing must look like; anything else is stored as rejected with the reasons. */
export const listingSchema = z.object({
  sourceId: text('the listing id').max(200),
  address: text('an address').max(500),
  city: text('a city').max(200).nullable(),
  state: z.string().regex(/^[A-Z]{2}$/, { error: 'expected a two-letter state code' }).nullable(),
  zip: z.string({ error: 'expected a ZIP code' }).regex(/^\d{5}(-\d{4})?$/, { error: 'expected a 5-digit ZIP code' }),
  price: number('a price in dollars', 1_000, 1_000_000_000),
  beds: number('bedrooms', 0, 20, { int: true }).nullable(),
  baths: number('bathrooms', 0, 20).multipleOf(0.25, { error: 'expected bathrooms in quarters' }).nullable(),
  livingAreaSqft: number('a living area in sqft', 100, 100_000, { int: true }).nullable(),
  lotSizeSqft: number('a lot size in sqft', 100, 100_000_000, { int: true }).nullable(),
  yearBuilt: number('a year built', 1700, MAX_YEAR, { int: true }).nullable(),
  latitude: number('a latitude', -90, 90).nullable(),
  longitude: number('a longitude', -180, 180).nullable(),
  listedOn: z.iso.date({ error: 'expected a date (YYYY-MM-DD)' }).nullable(),
  listingUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  ownerName: text('an owner name').max(500).nullable(),
  ownerMailingAddress: text('an owner mailing address').max(1000).nullable(),
});

/** A listing that passed validation, ready for `prospect_queue`. */
export type ValidListing = z.output<typeof listingSchema> & {
  /** Everything read from the pages, the `extra` fields included. */
  readonly raw: ListingRaw;
};

/** Why a listing was rejected: one entry per bad field. */
export interface RejectionReason {
  readonly field: string;
  readonly message: string;
}

/** A listing that failed validation: stored in `rejected_listing`, never dropped. */
export interface RejectedListing {
  /** Its id when the page had a usable one. */
  readonly sourceId: string | null;
  readonly listingUrl: string;
  readonly reasons: readonly RejectionReason[];
  readonly raw: ListingRaw;
}

/** The raw JSON kept with a listing: every value read, and the pages it came from. */
export interface ListingRaw {
  readonly fields: Record<string, FieldValue>;
  readonly extra: Record<string, FieldValue>;
  readonly listPageUrl: string;
  readonly detailPageUrl: string | null;
}

/** What a crawl read about one listing, before validation. */
export interface ListingCandidate extends ExtractedFields {
  readonly listPageUrl: string;
  readonly detailPageUrl: string | null;
}

const STRING_FIELDS: readonly ListingField[] = ['sourceId', 'address', 'city', 'state', 'zip', 'ownerName', 'ownerMailingAddress'];

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Validate what a crawl read about a listing. Ids and ZIP codes read as numbers become text; the
 * state defaults to the county's; the listing URL defaults to its detail page (or its list page
 * with `#<source id>`). Returns the valid listing, or the rejection with a reason per bad field.
 */
export function validateListing(candidate: ListingCandidate, defaults: { state: string }): { ok: true; listing: ValidListing } | { ok: false; rejected: RejectedListing } {
  const values: Record<string, unknown> = {};
  for (const field of Object.keys(listingSchema.shape) as ListingField[]) {
    const value = candidate.fields[field] ?? null;
    values[field] = STRING_FIELDS.includes(field) && typeof value === 'number' ? String(value) : value;
  }
  values.state ??= defaults.state;
  const sourceId = typeof values.sourceId === 'string' && values.sourceId.length > 0 ? values.sourceId : null;
  values.listingUrl ??= candidate.detailPageUrl ?? `${candidate.listPageUrl}#${sourceId ?? 'unknown'}`;
  const raw: ListingRaw = { fields: candidate.fields, extra: candidate.extra, listPageUrl: candidate.listPageUrl, detailPageUrl: candidate.detailPageUrl };
  const parsed = listingSchema.safeParse(values);
  if (parsed.success) return { ok: true, listing: { ...parsed.data, raw } };
  const reasons = parsed.error.issues.map((issue): RejectionReason => {
    const field = issue.path.map(String).join('.');
    const value = values[field];
    return { field, message: value === null || value === undefined ? 'missing' : `${issue.message}, got ${describe(value)}` };
  });
  return { ok: false, rejected: { sourceId, listingUrl: String(values.listingUrl), reasons, raw } };
}
