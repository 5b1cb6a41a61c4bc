import { parcelAddress, type House } from './houses.js';

/** Fields of a listing the site can publish wrongly. */
export type FaultyField = 'address' | 'price' | 'bedrooms' | 'bathrooms' | 'livingArea' | 'lotSize' | 'yearBuilt' | 'zip';

/**
 * A deliberate data error on one listing, on its list card and its detail page alike (and in the
 * JavaScript variant's API): `value` replaces what the site shows; `null` leaves the field out.
 */
export interface ListingFault {
  /** Parcel number of the listing. */
  readonly id: string;
  readonly field: FaultyField;
  readonly value: string | null;
}

/** The faults {@link demoFaults} cycles through: kinds of mistakes real listing sites make. */
const DEMO_FAULT_KINDS: readonly Omit<ListingFault, 'id'>[] = [
  { field: 'price', value: null },
  { field: 'price', value: 'Call for price' },
  { field: 'zip', value: '98-1OO' },
  { field: 'address', value: null },
  { field: 'bedrooms', value: 'three' },
  { field: 'yearBuilt', value: '19O5' },
];

/**
 * Deterministic faults for a demo: every `every`-th house (the 1st, then every `every` after it)
 * gets the next kind of mistake in a fixed cycle (missing price, "Call for price", a malformed ZIP
 * code, a missing address, "three" bedrooms, a misspelt year).
 */
export function demoFaults(houses: readonly House[], every = 400): ListingFault[] {
  const faults: ListingFault[] = [];
  for (let i = 0, n = 0; i < houses.length; i += every, n += 1) {
    faults.push({ id: houses[i]!.id, ...DEMO_FAULT_KINDS[n % DEMO_FAULT_KINDS.length]! });
  }
  return faults;
}

/** What the site publishes for each field of one house: a number, a string (a fault), or nothing. */
export type PublishedListing = { readonly house: House } & { readonly [F in FaultyField]: number | string | null };

/** Apply the faults of one house to its published fields. */
export function publishListing(house: House, faults: ReadonlyMap<string, readonly ListingFault[]>, price: number): PublishedListing {
  const fields: Record<FaultyField, number | string | null> = {
    address: parcelAddress(house.id),
    price,
    bedrooms: house.bedrooms,
    bathrooms: house.bathrooms,
    livingArea: house.livingAreaSqft,
    lotSize: house.lotSizeSqft,
    yearBuilt: house.yearBuilt,
    zip: house.zip,
  };
  for (const fault of faults.get(house.id) ?? []) fields[fault.field] = fault.value;
  return { house, ...fields };
}
