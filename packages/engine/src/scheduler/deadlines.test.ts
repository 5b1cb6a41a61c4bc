import { describe, expect, it } from 'vitest';
import { deadlineFor } from './deadlines.js';

const run = {
  runType: 'scheduled' as const,
  logicalDate: new Date('2024-01-01T00:00:00Z'),
  dataIntervalEnd: new Date('2024-01-02T00:00:00Z'),
  queuedAt: new Date('2024-01-02T00:00:05Z'),
};

describe('deadlineFor', () => {
  it('adds the delay to the reference time', () => {
    expect(deadlineFor({ deadline: { reference: 'logicalDate', afterMs: 3_600_000 } }, run)).toEqual(new Date('2024-01-01T01:00:00Z'));
    expect(deadlineFor({ deadline: { reference: 'dataIntervalEnd', afterMs: 3_600_000 } }, run)).toEqual(new Date('2024-01-02T01:00:00Z'));
    expect(deadlineFor({ deadline: { reference: 'queuedAt', afterMs: 1_000 } }, run)).toEqual(new Date('2024-01-02T00:00:06Z'));
  });

  it('gives none without a deadline, for test runs, and for backfills unless measured from queuedAt', () => {
    expect(deadlineFor({}, run)).toBeNull();
    expect(deadlineFor({ deadline: { reference: 'queuedAt', afterMs: 1 } }, { ...run, runType: 'test' })).toBeNull();
    expect(deadlineFor({ deadline: { reference: 'logicalDate', afterMs: 1 } }, { ...run, runType: 'backfill' })).toBeNull();
    expect(deadlineFor({ deadline: { reference: 'queuedAt', afterMs: 1 } }, { ...run, runType: 'backfill' })).toEqual(new Date('2024-01-02T00:00:05.001Z'));
  });
});
