import { describe, expect, it } from 'vitest';
import { OutletEventCollector, OutletEventError } from './outlet-events.js';

const where = { dagId: 'd', taskId: 't' };

describe('OutletEventCollector', () => {
  it('makes one event per outlet, with the extra the task attached', () => {
    const events = new OutletEventCollector(where, ['s3://a', 's3://b']);
    events.get('s3://a').extra = { rows: 3 };
    events.get('s3://a').extra.more = true;
    expect(events.events(1000)).toEqual([
      { uri: 's3://a', extra: { rows: 3, more: true } },
      { uri: 's3://b', extra: {} },
    ]);
  });

  it('refuses an asset that is not an outlet, naming the outlets', () => {
    const events = new OutletEventCollector(where, ['s3://a']);
    expect(() => events.get('s3://z')).toThrow("DAG 'd': task 't': 's3://z' is not one of its outlets (s3://a)");
    expect(() => new OutletEventCollector(where, []).get('s3://z')).toThrow('it has none; list assets in the outlets option');
  });

  it('refuses an extra that is not a JSON object within the limit', () => {
    const events = new OutletEventCollector(where, ['s3://a']);
    events.get('s3://a').extra = { big: 'x'.repeat(100) };
    expect(() => events.events(50)).toThrow(OutletEventError);
    (events.get('s3://a') as { extra: unknown }).extra = [1];
    expect(() => events.events(1000)).toThrow("the extra of outlet 's3://a' must be an object, got an array");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    events.get('s3://a').extra = cyclic;
    expect(() => events.events(1000)).toThrow('is not JSON-serializable');
  });
});
