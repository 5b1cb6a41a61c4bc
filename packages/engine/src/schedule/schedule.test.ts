import { describe, expect, it } from 'vitest';
import { nextScheduledRun, parseDateInZone, parseSchedule, type NextRun, type ScheduleBounds } from './schedule.js';

const d = (iso: string): Date => new Date(iso);
const bounds = (over: Partial<ScheduleBounds> = {}): ScheduleBounds => ({
  startDate: d('2024-01-01T00:00:00Z'),
  endDate: null,
  catchup: true,
  timezone: 'UTC',
  ...over,
});

describe('parseSchedule', () => {
  it('accepts presets, 5- and 6-field cron and null', () => {
    expect(parseSchedule('@daily')).toEqual({ kind: 'cron', expression: '0 0 * * *' });
    expect(parseSchedule('@quarterly')).toEqual({ kind: 'cron', expression: '0 0 1 */3 *' });
    expect(parseSchedule('@once')).toEqual({ kind: 'once' });
    expect(parseSchedule('*/10 * * * * *')).toEqual({ kind: 'cron', expression: '*/10 * * * * *' });
    expect(parseSchedule(null)).toEqual({ kind: 'none' });
  });

  it('explains what is wrong with a bad cron', () => {
    expect(() => parseSchedule('0 0 * *')).toThrow("invalid cron '0 0 * *': expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got 4");
    expect(() => parseSchedule('61 * * * *')).toThrow("invalid cron '61 * * * *'");
    expect(() => parseSchedule('0 0 * * *', 'Nowhere/City')).toThrow("unknown time zone 'Nowhere/City'");
  });
});

describe('nextScheduledRun', () => {
  const daily = parseSchedule('@daily');

  it('covers [tick, next tick) and is due at the interval end', () => {
    const next = nextScheduledRun(daily, bounds(), null, d('2024-01-05T12:00:00Z'))!;
    expect(next.logicalDate).toEqual(d('2024-01-01T00:00:00Z'));
    expect(next.dataInterval).toEqual({ start: d('2024-01-01T00:00:00Z'), end: d('2024-01-02T00:00:00Z') });
    expect(next.runAfter).toEqual(d('2024-01-02T00:00:00Z'));
  });

  it('with catchup continues from the last run; without it jumps to the latest complete interval', () => {
    const last = { start: d('2024-01-01T00:00:00Z'), end: d('2024-01-02T00:00:00Z') };
    const now = d('2024-01-05T12:00:00Z');
    expect(nextScheduledRun(daily, bounds(), last, now)!.logicalDate).toEqual(d('2024-01-02T00:00:00Z'));
    expect(nextScheduledRun(daily, bounds({ catchup: false }), last, now)!.logicalDate).toEqual(d('2024-01-04T00:00:00Z'));
    expect(nextScheduledRun(daily, bounds({ catchup: false }), null, now)!.dataInterval.end).toEqual(d('2024-01-05T00:00:00Z'));
  });

  it('aligns a start date between ticks up to the next tick, and stops after the end date', () => {
    expect(nextScheduledRun(daily, bounds({ startDate: d('2024-01-01T05:00:00Z') }), null, d('2024-02-01T00:00:00Z'))!.logicalDate).toEqual(
      d('2024-01-02T00:00:00Z'),
    );
    const last = { start: d('2024-01-02T00:00:00Z'), end: d('2024-01-03T00:00:00Z') };
    expect(nextScheduledRun(daily, bounds({ endDate: d('2024-01-02T12:00:00Z') }), last, d('2024-02-01T00:00:00Z'))).toBeNull();
  });

  it('evaluates cron in the DAG time zone across DST (America/New_York, 0 2 * * *)', () => {
    const schedule = parseSchedule('0 2 * * *', 'America/New_York');
    const tz = bounds({ timezone: 'America/New_York', startDate: d('2024-03-08T07:00:00Z') });
    const runs: string[] = [];
    let last: { start: Date; end: Date } | null = null;
    for (let i = 0; i < 4; i++) {
      const next: NextRun = nextScheduledRun(schedule, tz, last, d('2024-04-01T00:00:00Z'))!;
      runs.push(next.logicalDate.toISOString());
      last = next.dataInterval;
    }
    // 2:00 does not exist on 10 March (clocks jump to 3:00): that day's run is at 3:00 EDT.
    expect(runs).toEqual(['2024-03-08T07:00:00.000Z', '2024-03-09T07:00:00.000Z', '2024-03-10T07:00:00.000Z', '2024-03-11T06:00:00.000Z']);
  });

  it('runs @once a single time at the start date, and never without a schedule', () => {
    const once = nextScheduledRun(parseSchedule('@once'), bounds(), null, d('2024-02-01T00:00:00Z'))!;
    expect(once.runAfter).toEqual(d('2024-01-01T00:00:00Z'));
    expect(nextScheduledRun(parseSchedule('@once'), bounds(), once.dataInterval, d('2024-02-01T00:00:00Z'))).toBeNull();
    expect(nextScheduledRun(parseSchedule(null), bounds(), null, d('2024-02-01T00:00:00Z'))).toBeNull();
  });
});

describe('parseDateInZone', () => {
  it('reads a date without offset as wall-clock time in the zone', () => {
    expect(parseDateInZone('2024-07-01', 'Europe/Paris')).toEqual(d('2024-06-30T22:00:00Z'));
    expect(parseDateInZone('2024-01-15T09:30:00', 'America/New_York')).toEqual(d('2024-01-15T14:30:00Z'));
    expect(parseDateInZone('2024-01-15T09:30:00Z', 'America/New_York')).toEqual(d('2024-01-15T09:30:00Z'));
    expect(parseDateInZone('not a date', 'UTC')).toBeNull();
  });
});
