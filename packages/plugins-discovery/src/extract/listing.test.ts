import { describe, expect, it } from 'vitest';
import { validateListing, type ListingCandidate } from './listing.js';

const candidate = (fields: ListingCandidate['fields']): ListingCandidate => ({
  fields: { sourceId: '7129300520', address: 'Parcel 712930-0520', zip: '98178', price: 221_900, ...fields },
  extra: {},
  listPageUrl: 'http://site.test/static/listings?page=1',
  detailPageUrl: 'http://site.test/static/listings/7129300520',
});

describe('validateListing', () => {
  it('accepts a listing with the required fields, defaulting state and listing URL, nulls for the rest', () => {
    const result = validateListing(candidate({ beds: 3, baths: 1 }), { state: 'WA' });
    expect(result).toMatchObject({
      ok: true,
      listing: { sourceId: '7129300520', state: 'WA', beds: 3, baths: 1, yearBuilt: null, listingUrl: 'http://site.test/static/listings/7129300520', ownerName: null },
    });
  });

  it('turns ids and ZIP codes read as numbers into text', () => {
    const result = validateListing(candidate({ sourceId: 7129300520, zip: 98178 }), { state: 'WA' });
    expect(result).toMatchObject({ ok: true, listing: { sourceId: '7129300520', zip: '98178' } });
  });

  it('rejects with one reason per bad field: missing, wrong type (with the value), out of range', () => {
    const result = validateListing(candidate({ price: null, zip: '98-1OO', beds: 33, baths: 'two' }), { state: 'WA' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejected.reasons).toEqual([
      { field: 'zip', message: 'expected a 5-digit ZIP code, got "98-1OO"' },
      { field: 'price', message: 'missing' },
      { field: 'beds', message: 'expected bedrooms of at most 20, got 33' },
      { field: 'baths', message: 'expected bathrooms as a number, got "two"' },
    ]);
    expect(result.rejected).toMatchObject({ sourceId: '7129300520', listingUrl: 'http://site.test/static/listings/7129300520' });
    expect(result.rejected.raw.fields.beds).toBe(33);
  });

  it('keeps a listing without an id rejected under its list page URL', () => {
    const result = validateListing({ ...candidate({ sourceId: null }), detailPageUrl: null }, { state: 'WA' });
    expect(result).toMatchObject({ ok: false, rejected: { sourceId: null, listingUrl: 'http://site.test/static/listings?page=1#unknown', reasons: [{ field: 'sourceId', message: 'missing' }] } });
  });
});
