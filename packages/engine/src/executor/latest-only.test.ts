import { describe, expect, it } from 'vitest';
import { isLatestRun } from './latest-only.js';

const log = { info: () => {} } as never;
const daily = { schedule: '@daily', timezone: 'UTC' };
const interval = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };

describe('isLatestRun', () => {
  it('is the latest while the next interval has not ended', () => {
    expect(isLatestRun(daily, { runType: 'scheduled', dataInterval: interval, log }, new Date('2024-03-02T05:00:00Z'))).toBe(true);
    expect(isLatestRun(daily, { runType: 'scheduled', dataInterval: interval, log }, new Date('2024-03-03T00:00:01Z'))).toBe(false);
    expect(isLatestRun(daily, { runType: 'backfill', dataInterval: interval, log }, new Date('2024-06-01T00:00:00Z'))).toBe(false);
  });

  it('lets runs the schedule did not create proceed', () => {
    for (const runType of ['manual', 'test', 'asset_triggered'] as const) {
      expect(isLatestRun(daily, { runType, dataInterval: interval, log }, new Date('2030-01-01T00:00:00Z'))).toBe(true);
    }
    expect(isLatestRun({ schedule: null, timezone: 'UTC' }, { runType: 'scheduled', dataInterval: interval, log })).toBe(true);
  });

  it('counts fixed intervals from the start date', () => {
    const hourly = { schedule: { every: 3_600_000 }, timezone: 'UTC', startDate: '2024-03-01T00:00:00.000Z' };
    const hour = { start: new Date('2024-03-01T05:00:00Z'), end: new Date('2024-03-01T06:00:00Z') };
    expect(isLatestRun(hourly, { runType: 'scheduled', dataInterval: hour, log }, new Date('2024-03-01T06:30:00Z'))).toBe(true);
    expect(isLatestRun(hourly, { runType: 'scheduled', dataInterval: hour, log }, new Date('2024-03-01T07:00:01Z'))).toBe(false);
  });
});
