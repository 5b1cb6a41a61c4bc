import { describe, expect, it } from 'vitest';
import { dag } from '../dag/dag.js';
import { serializeDag } from '../dag/serialize.js';
import { assetConditionMet, assetUris, describeAssetCondition, parseAssetCondition } from './assets.js';
import { describeSchedule, parseSchedule } from './schedule.js';

describe('asset conditions', () => {
  it('normalizes lists to all-of, drops duplicates and unwraps single entries', () => {
    expect(parseAssetCondition(['a://1', 'b://2', 'a://1'])).toEqual({ all: ['a://1', 'b://2'] });
    expect(parseAssetCondition({ any: ['a://1', ['b://2', 'c://3']] })).toEqual({ any: ['a://1', { all: ['b://2', 'c://3'] }] });
    expect(parseAssetCondition({ all: [{ any: ['a://1'] }] })).toBe('a://1');
  });

  it('names the path of what is wrong', () => {
    expect(() => parseAssetCondition([])).toThrow("'assets': expected a non-empty array of asset URIs or conditions");
    expect(() => parseAssetCondition({ any: ['a://1', { all: ['b://2', 7] }] })).toThrow("'assets.any[1].all[1]': expected an asset URI, a list, { all: [...] } or { any: [...] }, got number");
    expect(() => parseAssetCondition({ or: ['a://1'] })).toThrow("'assets': expected an asset URI, a list, { all: [...] } or { any: [...] }, got an object with keys 'or'");
    expect(() => parseAssetCondition({ any: 'a://1' })).toThrow("'assets.any': expected a non-empty array");
  });

  it("holds as Airflow's & and | do", () => {
    const condition = parseAssetCondition({ any: ['a://1', { all: ['b://2', 'c://3'] }] });
    expect(assetConditionMet(condition, new Set())).toBe(false);
    expect(assetConditionMet(condition, new Set(['b://2']))).toBe(false);
    expect(assetConditionMet(condition, new Set(['b://2', 'c://3']))).toBe(true);
    expect(assetConditionMet(condition, new Set(['a://1']))).toBe(true);
    expect(assetConditionMet(parseAssetCondition(['a://1', 'b://2']), new Set(['a://1', 'x://9']))).toBe(false);
    expect(assetUris(condition)).toEqual(['a://1', 'b://2', 'c://3']);
  });

  it('describes conditions in one line', () => {
    expect(describeAssetCondition(parseAssetCondition(['a://1', 'b://2']))).toBe('a://1, b://2');
    expect(describeAssetCondition(parseAssetCondition({ any: ['a://1', { all: ['b://2', 'c://3'] }] }))).toBe('a://1 | (b://2 & c://3)');
    expect(describeSchedule({ assets: { any: ['a://1', 'b://2'] } })).toBe('assets: a://1 | b://2');
  });

  it('stores a plain list as a list and a nested condition as its normalized object, and reads both back', () => {
    const plain = dag({ id: 'plain', schedule: { assets: ['a://1', 'b://2'] } });
    plain.task('t', () => 1);
    expect(serializeDag(plain).schedule).toEqual({ assets: ['a://1', 'b://2'] });
    const nested = dag({ id: 'nested', schedule: { assets: { any: ['a://1', ['b://2', 'c://3']] } } });
    nested.task('t', () => 1);
    const stored = serializeDag(nested).schedule;
    expect(stored).toEqual({ assets: { any: ['a://1', { all: ['b://2', 'c://3'] }] } });
    expect(parseSchedule(stored)).toMatchObject({ kind: 'assets', uris: ['a://1', 'b://2', 'c://3'] });
  });
});
