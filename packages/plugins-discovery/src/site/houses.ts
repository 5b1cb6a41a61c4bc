import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { KING_COUNTY_ZIP_CITIES } from './zip-cities.js';

/** The King County sales data shipped with the package (gzipped CSV, 21,608 sales). */
export const KING_COUNTY_SALES_FILE = fileURLToPath(new URL('../../data/kc_house_data.csv.gz', import.meta.url));

/** One house of the listings site: the latest sale of one parcel in the King County data. */
export interface House {
  /** King County parcel number (10 digits), the listing's id on the site. */
  readonly id: string;
  /** Sale date, `YYYY-MM-DD`: the site lists it as the listing date. */
  readonly listedOn: string;
  readonly price: number;
  readonly bedrooms: number;
  readonly bathrooms: number;
  readonly livingAreaSqft: number;
  readonly lotSizeSqft: number;
  readonly floors: number;
  readonly waterfront: boolean;
  /** 0-4 */
  readonly view: number;
  /** 1-5 */
  readonly condition: number;
  /** King County building grade, 1-13. */
  readonly grade: number;
  readonly yearBuilt: number;
  /** null when never renovated. */
  readonly yearRenovated: number | null;
  readonly zip: string;
  /** USPS preferred city of the ZIP code. */
  readonly city: string;
  readonly latitude: number;
  readonly longitude: number;
}

interface SaleRow {
  id: string;
  date: string;
  price: string;
  bedrooms: string;
  bathrooms: string;
  sqft_living: string;
  sqft_lot: string;
  floors: string;
  waterfront: string;
  view: string;
  condition: string;
  grade: string;
  yr_built: string;
  yr_renovated: string;
  zipcode: string;
  lat: string;
  long: string;
}

/** `20141013T000000` → `2014-10-13` */
function saleDate(raw: string): string {
  return `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}`;
}

/**
 * Houses from the King County sales CSV (plain or gzipped): one per parcel (its latest sale; some
 * parcels sold twice), newest sale first, then by parcel number — the order the site lists them in.
 */
export function loadHouses(file: string = KING_COUNTY_SALES_FILE): House[] {
  const bytes = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as SaleRow[];
  const latest = new Map<string, House>();
  for (const row of rows) {
    const house: House = {
      id: row.id,
      listedOn: saleDate(row.date),
      price: Number(row.price),
      bedrooms: Number(row.bedrooms),
      bathrooms: Number(row.bathrooms),
      livingAreaSqft: Number(row.sqft_living),
      lotSizeSqft: Number(row.sqft_lot),
      floors: Number(row.floors),
      waterfront: row.waterfront === '1',
      view: Number(row.view),
      condition: Number(row.condition),
      grade: Number(row.grade),
      yearBuilt: Number(row.yr_built),
      yearRenovated: Number(row.yr_renovated) > 0 ? Number(row.yr_renovated) : null,
      zip: row.zipcode,
      city: KING_COUNTY_ZIP_CITIES[row.zipcode] ?? 'King County',
      latitude: Number(row.lat),
      longitude: Number(row.long),
    };
    const seen = latest.get(house.id);
    if (!seen || seen.listedOn < house.listedOn) latest.set(house.id, house);
  }
  return [...latest.values()].sort((a, b) => (a.listedOn === b.listedOn ? a.id.localeCompare(b.id) : b.listedOn.localeCompare(a.listedOn)));
}

let kingCounty: readonly House[] | undefined;

/** The houses of the King County data shipped with the package ({@link loadHouses}, read once per process). */
export function kingCountyHouses(): readonly House[] {
  kingCounty ??= Object.freeze(loadHouses());
  return kingCounty;
}

/** The address line the site shows: the data set has no street addresses, so the parcel number (`712930-0520`). */
export function parcelAddress(id: string): string {
  return `Parcel ${id.slice(0, 6)}-${id.slice(6)}`;
}
