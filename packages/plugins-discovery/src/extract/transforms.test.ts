import { describe, expect, it } from 'vitest';
import { applyTransform, applyTransforms, parseDate, parseNumber } from './transforms.js';

const page = 'http://site.test/static/listings?page=2';

describe('field transforms', () => {
  it('reads the first number in a text, commas and units around it dropped', () => {
    expect(parseNumber('$1,310,000')).toBe(1_310_000);
    expect(parseNumber('2.25 ba')).toBe(2.25);
    expect(parseNumber('3,750 sqft')).toBe(3750);
    expect(parseNumber('-122.257')).toBe(-122.257);
  });

  it('passes a text without a number on unchanged, so validation can say what the page had', () => {
    expect(parseNumber('Call for price')).toBe('Call for price');
    expect(applyTransform('three', 'number', page)).toBe('three');
  });

  it('reads dates written as ISO dates or in words', () => {
    expect(parseDate('2015-05-27')).toBe('2015-05-27');
    expect(parseDate('May 27, 2015')).toBe('2015-05-27');
    expect(parseDate('soon')).toBe('soon');
  });

  it('resolves links against the page URL', () => {
    expect(applyTransform('/static/listings/123', 'absoluteUrl', page)).toBe('http://site.test/static/listings/123');
  });

  it('extracts a regex group, or nothing when it does not match', () => {
    expect(applyTransform('Parcel 712930-0520', { regex: '(\\d{6})-(\\d{4})', group: 2 }, page)).toBe('0520');
    expect(applyTransform('no parcel', { regex: '(\\d{6})', group: 1 }, page)).toBeNull();
  });

  it('maps words to values and multiplies numbers, in order', () => {
    expect(applyTransforms('yes', { map: { yes: true, no: false } }, page)).toBe(true);
    expect(applyTransforms('never', [{ map: { never: null } }, 'number'], page)).toBeNull();
    expect(applyTransforms('0.25 acres', ['number', { multiply: 43_560 }], page)).toBe(10_890);
    expect(applyTransforms(' King ', ['trim', 'uppercase'], page)).toBe('KING');
    expect(applyTransforms('a-b-c', { replace: '-', with: ' ' }, page)).toBe('a b c');
  });

  it('leaves a missing value missing', () => {
    expect(applyTransforms(null, ['number', { map: { x: 1 } }], page)).toBeNull();
  });
});
