import { describe, expect, it } from 'vitest';
import { demoFaults, publishListing } from './faults.js';
import { kingCountyHouses, parcelAddress } from './houses.js';
import { KING_COUNTY_ZIP_CITIES } from './zip-cities.js';

describe('the King County houses', () => {
  const houses = kingCountyHouses();

  it('has one house per parcel of the 21,608 sales (the latest sale of parcels sold twice), newest first', () => {
    expect(houses).toHaveLength(21_430);
    expect(new Set(houses.map((h) => h.id)).size).toBe(houses.length);
    expect(houses[0]!.listedOn >= houses.at(-1)!.listedOn).toBe(true);
    expect(houses.every((h, i) => i === 0 || houses[i - 1]!.listedOn >= h.listedOn)).toBe(true);
    expect(houses[0]).toMatchObject({ listedOn: '2015-05-27' });
  });

  it('knows the city of every ZIP code in the data', () => {
    expect(houses.filter((h) => !KING_COUNTY_ZIP_CITIES[h.zip])).toEqual([]);
    expect(houses.find((h) => h.zip === '98004')!.city).toBe('Bellevue');
  });

  it('writes parcel numbers as the county does, for the address line', () => {
    expect(parcelAddress('7129300520')).toBe('Parcel 712930-0520');
  });
});

describe('faults', () => {
  const houses = kingCountyHouses().slice(0, 1200);

  it('cycles through six kinds of mistakes, one listing in `every`', () => {
    const faults = demoFaults(houses, 200);
    expect(faults.map((f) => [f.field, f.value])).toEqual([
      ['price', null],
      ['price', 'Call for price'],
      ['zip', '98-1OO'],
      ['address', null],
      ['bedrooms', 'three'],
      ['yearBuilt', '19O5'],
    ]);
    expect(faults.map((f) => f.id)).toEqual([0, 200, 400, 600, 800, 1000].map((i) => houses[i]!.id));
  });

  it('publish the fault in place of the field, and the asking price the site set', () => {
    const house = houses[0]!;
    const faults = new Map([[house.id, [{ id: house.id, field: 'zip' as const, value: 'x' }]]]);
    expect(publishListing(house, faults, 500_000)).toMatchObject({ zip: 'x', price: 500_000, bedrooms: house.bedrooms, address: parcelAddress(house.id) });
  });
});
