import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  intervalsBetween,
  nextScheduledRun,
  parseDateInZone,
  parseSchedule,
  type NextRun,
  type ParsedSchedule,
  type ScheduleBounds,
} from './schedule.js';

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
    expect(parseSchedule('@continuous')).toEqual({ kind: 'continuous' });
  });

  it('accepts fixed intervals and asset lists, in DAG-file and stored form', () => {
    expect(parseSchedule({ every: '30m' })).toEqual({ kind: 'interval', everyMs: 1_800_000 });
    expect(parseSchedule({ every: 1_800_000 })).toEqual({ kind: 'interval', everyMs: 1_800_000 });
    expect(parseSchedule({ assets: ['s3://b/a', 'file:///x', 's3://b/a'] })).toEqual({
      kind: 'assets',
      uris: ['s3://b/a', 'file:///x'],
      condition: { all: ['s3://b/a', 'file:///x'] },
    });
    expect(describeSchedule({ every: 1_800_000 })).toBe('every 30m');
    expect(describeSchedule({ assets: ['a://1', 'b://2'] })).toBe('assets: a://1, b://2');
    expect(describeSchedule('@daily')).toBe('@daily');
  });

  it('names what is wrong with a bad interval or asset list', () => {
    expect(() => parseSchedule({ every: 'soon' })).toThrow("'every': expected a duration such as '30s', '5m' or '2h', got 'soon'");
    expect(() => parseSchedule({ every: 10 })).toThrow("'every': must be at least 1000 ms, got 10 ms");
    expect(() => parseSchedule({ assets: [] })).toThrow("'assets': expected a non-empty array of asset URIs");
    expect(() => parseSchedule({ assets: ['has space'] })).toThrow("asset URI 'has space' must be non-empty, without whitespace");
    expect(() => parseSchedule({ every: '1h', assets: ['x'] } as never)).toThrow("got an object with keys 'every', 'assets'");
    expect(() => parseSchedule('@fortnightly')).toThrow('expected one of @once, @continuous, @hourly');
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

/** Walk a schedule from `start` for `count` runs (catchup on) and return each logical date and run-after time. */
function walk(schedule: ParsedSchedule, over: Partial<ScheduleBounds>, count: number, now = d('2030-01-01T00:00:00Z')): [string, string][] {
  const out: [string, string][] = [];
  let last: { start: Date; end: Date } | null = null;
  for (let i = 0; i < count; i++) {
    const next = nextScheduledRun(schedule, bounds(over), last, now);
    if (!next) break;
    out.push([next.logicalDate.toISOString(), next.runAfter.toISOString()]);
    last = next.dataInterval;
  }
  return out;
}

describe('daylight saving time (America/New_York)', () => {
  const ny = { timezone: 'America/New_York' };

  it('0 2 * * * in November: one run a day, at 2:00 local on either side of the change', () => {
    const runs = walk(parseSchedule('0 2 * * *', 'America/New_York'), { ...ny, startDate: d('2024-11-02T06:00:00Z') }, 3);
    // 2 Nov 02:00 EDT = 06:00Z; 3 Nov (clocks fall back at 02:00 EDT to 01:00 EST) 02:00 EST = 07:00Z.
    expect(runs.map(([logical]) => logical)).toEqual(['2024-11-02T06:00:00.000Z', '2024-11-03T07:00:00.000Z', '2024-11-04T07:00:00.000Z']);
    // The 3 Nov interval is 25 hours long in absolute time, and each run is due at its interval's end.
    expect(runs.map(([, after]) => after)).toEqual(['2024-11-03T07:00:00.000Z', '2024-11-04T07:00:00.000Z', '2024-11-05T07:00:00.000Z']);
  });

  it('a daily 1:30 runs once on the fall-back day, though 1:30 happens twice', () => {
    const runs = walk(parseSchedule('30 1 * * *', 'America/New_York'), { ...ny, startDate: d('2024-11-02T05:30:00Z') }, 3);
    expect(runs.map(([logical]) => logical)).toEqual(['2024-11-02T05:30:00.000Z', '2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
  });

  it('without catchup, the latest complete interval is found across the fall-back change', () => {
    const schedule = parseSchedule('30 1 * * *', 'America/New_York');
    // 3 Nov 01:45 EST (06:45Z): 01:30 EST just passed, but the 3 Nov run (01:30 EDT) is still in progress.
    const next = nextScheduledRun(schedule, bounds({ ...ny, catchup: false, startDate: d('2024-10-01T05:30:00Z') }), null, d('2024-11-03T06:45:00Z'))!;
    expect(next.dataInterval).toEqual({ start: d('2024-11-02T05:30:00Z'), end: d('2024-11-03T05:30:00Z') });
  });

  it('an hourly cron runs every 60 minutes through both changes (the repeated hour twice, the skipped hour never)', () => {
    const hourly = parseSchedule('0 * * * *', 'America/New_York');
    const fall = walk(hourly, { ...ny, startDate: d('2024-11-03T04:00:00Z') }, 4).map(([logical]) => logical);
    expect(fall).toEqual(['2024-11-03T04:00:00.000Z', '2024-11-03T05:00:00.000Z', '2024-11-03T06:00:00.000Z', '2024-11-03T07:00:00.000Z']);
    const spring = walk(hourly, { ...ny, startDate: d('2024-03-10T06:00:00Z') }, 3).map(([logical]) => logical);
    expect(spring).toEqual(['2024-03-10T06:00:00.000Z', '2024-03-10T07:00:00.000Z', '2024-03-10T08:00:00.000Z']);
  });

  it('fixed intervals are exact durations: a 1d interval is 24 hours across the change', () => {
    const runs = walk(parseSchedule({ every: '1d' }), { ...ny, startDate: d('2024-03-09T07:00:00Z') }, 3);
    expect(runs.map(([logical]) => logical)).toEqual(['2024-03-09T07:00:00.000Z', '2024-03-10T07:00:00.000Z', '2024-03-11T07:00:00.000Z']);
  });

  it('6-field cron with seconds', () => {
    const runs = walk(parseSchedule('*/20 * * * * *'), { startDate: d('2024-01-01T00:00:05Z') }, 3);
    expect(runs).toEqual([
      ['2024-01-01T00:00:20.000Z', '2024-01-01T00:00:40.000Z'],
      ['2024-01-01T00:00:40.000Z', '2024-01-01T00:01:00.000Z'],
      ['2024-01-01T00:01:00.000Z', '2024-01-01T00:01:20.000Z'],
    ]);
  });
});

describe('fixed intervals, @continuous and the end date', () => {
  const every = parseSchedule({ every: '6h' });

  it('steps from the start date; without catchup jumps to the latest complete interval on that grid', () => {
    expect(walk(every, { startDate: d('2024-01-01T01:00:00Z') }, 2)).toEqual([
      ['2024-01-01T01:00:00.000Z', '2024-01-01T07:00:00.000Z'],
      ['2024-01-01T07:00:00.000Z', '2024-01-01T13:00:00.000Z'],
    ]);
    const next = nextScheduledRun(every, bounds({ startDate: d('2024-01-01T01:00:00Z'), catchup: false }), null, d('2024-01-03T02:00:00Z'))!;
    expect(next.dataInterval).toEqual({ start: d('2024-01-02T19:00:00Z'), end: d('2024-01-03T01:00:00Z') });
  });

  it('creates no run starting after the end date (one that starts before it still runs to its end)', () => {
    const runs = walk(every, { startDate: d('2024-01-01T00:00:00Z'), endDate: d('2024-01-01T12:00:00Z') }, 10);
    expect(runs.map(([logical]) => logical)).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-01T06:00:00.000Z', '2024-01-01T12:00:00.000Z']);
  });

  it('@continuous is due at once, from the previous run end (or the start date)', () => {
    const continuous = parseSchedule('@continuous');
    const now = d('2024-05-01T10:00:00Z');
    const first = nextScheduledRun(continuous, bounds(), null, now)!;
    expect(first.logicalDate).toEqual(d('2024-01-01T00:00:00Z'));
    expect(first.runAfter).toEqual(now);
    const second = nextScheduledRun(continuous, bounds(), { start: first.logicalDate, end: d('2024-05-01T09:59:00Z') }, now)!;
    expect(second.logicalDate).toEqual(d('2024-05-01T09:59:00Z'));
    expect(nextScheduledRun(continuous, bounds({ startDate: d('2024-06-01T00:00:00Z') }), null, now)!.runAfter).toEqual(d('2024-06-01T00:00:00Z'));
    expect(nextScheduledRun(continuous, bounds({ endDate: d('2024-02-01T00:00:00Z') }), { start: now, end: now }, now)).toBeNull();
  });

  it('an asset schedule is not time-based', () => {
    expect(nextScheduledRun(parseSchedule({ assets: ['x://y'] }), bounds(), null, d('2024-02-01T00:00:00Z'))).toBeNull();
  });
});

describe('intervalsBetween (backfill ranges)', () => {
  const now = d('2024-01-10T12:00:00Z');
  const dag = { timezone: 'UTC', startDate: d('2023-01-01T00:00:00Z') };

  it('lists every interval whose logical date is in [from, to] and which has ended', () => {
    const daily = intervalsBetween(parseSchedule('@daily'), dag, { from: d('2024-01-02T00:00:00Z'), to: d('2024-01-04T00:00:00Z') }, now);
    expect(daily.map((i) => i.start.toISOString())).toEqual(['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z', '2024-01-04T00:00:00.000Z']);
    // A from date between ticks starts at the next tick; intervals still running are left out.
    const late = intervalsBetween(parseSchedule('@daily'), dag, { from: d('2024-01-08T05:00:00Z'), to: d('2024-01-20T00:00:00Z') }, now);
    expect(late.map((i) => i.start.toISOString())).toEqual(['2024-01-09T00:00:00.000Z']);
  });

  it('keeps fixed intervals on the DAG grid', () => {
    const grid = intervalsBetween(parseSchedule({ every: '5h' }), { timezone: 'UTC', startDate: d('2024-01-01T00:00:00Z') }, { from: d('2024-01-01T06:00:00Z'), to: d('2024-01-01T20:00:00Z') }, now);
    expect(grid.map((i) => i.start.toISOString())).toEqual(['2024-01-01T10:00:00.000Z', '2024-01-01T15:00:00.000Z', '2024-01-01T20:00:00.000Z']);
  });

  it('refuses schedules without intervals and ranges that are too long', () => {
    const range = { from: d('2024-01-01T00:00:00Z'), to: d('2024-01-05T00:00:00Z') };
    expect(() => intervalsBetween(parseSchedule(null), dag, range, now)).toThrow('not a DAG without a schedule');
    expect(() => intervalsBetween(parseSchedule('@continuous'), dag, range, now)).toThrow('not @continuous');
    expect(() => intervalsBetween(parseSchedule('@hourly'), dag, range, now, 10)).toThrow('more than 10 intervals');
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
