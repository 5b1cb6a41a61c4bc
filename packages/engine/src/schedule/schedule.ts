import { CronExpressionParser } from 'cron-parser';
import ms from 'ms';
import { durationToMs } from '../dag/duration.js';
import type { DataInterval, Schedule, SerializedSchedule } from '../dag/types.js';
import { assetUris, describeAssetCondition, parseAssetCondition, type AssetCondition } from './assets.js';

export { checkAssetUri } from './assets.js';

/** Presets accepted in place of a cron expression, and the cron they stand for. */
export const SCHEDULE_PRESETS: Readonly<Record<string, string>> = Object.freeze({
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
});

/** Presets that are not cron expressions. */
const SPECIAL_PRESETS = ['@once', '@continuous'] as const;

/** Shortest fixed interval accepted: shorter ones would only load the scheduler. */
export const MIN_INTERVAL_MS = 1000;

/** A schedule after parsing. */
export type ParsedSchedule =
  | { kind: 'none' }
  | { kind: 'once' }
  /** A new run as soon as the previous one finished (Airflow's `@continuous`). */
  | { kind: 'continuous' }
  | { kind: 'cron'; expression: string }
  /** Fixed-length intervals from the start date. */
  | { kind: 'interval'; everyMs: number }
  /**
   * A run once the asset condition holds for the assets updated since the last such run; `uris` are
   * every asset the condition names.
   */
  | { kind: 'assets'; uris: readonly string[]; condition: AssetCondition };

/** Zones found valid: the check builds an `Intl.DateTimeFormat` (~50 µs), and every DAG makes it. */
const validTimezones = new Set<string>();

/** True when `timezone` is an IANA zone this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  if (typeof timezone !== 'string' || timezone === '') return false;
  if (validTimezones.has(timezone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return false;
  }
  // Bounded: the zones in use are few, but a caller could check arbitrary strings.
  if (validTimezones.size < 1000) validTimezones.add(timezone);
  return true;
}

/** Why a cron expression is invalid in a zone (null when valid), memoized: parsing costs ~150 µs. */
const cronProblems = new Map<string, string | null>();

function cronProblem(expression: string, timezone: string): string | null {
  const key = `${timezone} ${expression}`;
  let problem = cronProblems.get(key);
  if (problem === undefined) {
    try {
      CronExpressionParser.parse(expression, { tz: timezone });
      problem = null;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (cronProblems.size >= 1000) cronProblems.clear();
    cronProblems.set(key, problem);
  }
  return problem;
}

/**
 * Parse a DAG's `schedule` value (as written in a DAG file, or its stored form). Throws an `Error`
 * whose message says what is wrong and what is expected.
 */
export function parseSchedule(schedule: Schedule | SerializedSchedule | undefined, timezone = 'UTC'): ParsedSchedule {
  if (schedule === null || schedule === undefined) return { kind: 'none' };
  if (typeof schedule === 'object' && !Array.isArray(schedule)) return parseObjectSchedule(schedule);
  if (typeof schedule !== 'string') {
    throw new Error(`expected a cron string, a preset, { every: duration }, { assets: [uri, …] } or null, got ${Array.isArray(schedule) ? 'an array' : typeof schedule}`);
  }
  const trimmed = schedule.trim();
  if (trimmed === '@once') return { kind: 'once' };
  if (trimmed === '@continuous') return { kind: 'continuous' };
  const expression = trimmed.startsWith('@') ? SCHEDULE_PRESETS[trimmed] : trimmed;
  if (expression === undefined) {
    throw new Error(`unknown preset '${trimmed}' (expected one of ${[...SPECIAL_PRESETS, ...Object.keys(SCHEDULE_PRESETS)].join(', ')})`);
  }
  const fields = expression.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new Error(`invalid cron '${schedule}': expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields}`);
  }
  if (!isValidTimezone(timezone)) throw new Error(`unknown time zone '${timezone}'`);
  const problem = cronProblem(expression, timezone);
  if (problem !== null) throw new Error(`invalid cron '${schedule}': ${problem}`);
  return { kind: 'cron', expression };
}

function parseObjectSchedule(schedule: object): ParsedSchedule {
  const keys = Object.keys(schedule);
  if (keys.length === 1 && keys[0] === 'every') {
    const every = (schedule as { every: unknown }).every;
    const everyMs = typeof every === 'number' || typeof every === 'string' ? durationToMs(every) : `expected a duration, got ${typeof every}`;
    if (typeof everyMs === 'string') throw new Error(`'every': ${everyMs}`);
    if (everyMs < MIN_INTERVAL_MS) throw new Error(`'every': must be at least ${MIN_INTERVAL_MS} ms, got ${everyMs} ms`);
    return { kind: 'interval', everyMs };
  }
  if (keys.length === 1 && keys[0] === 'assets') {
    const condition = parseAssetCondition((schedule as { assets: unknown }).assets);
    return { kind: 'assets', uris: assetUris(condition), condition };
  }
  throw new Error(`expected { every: duration } or { assets: [uri, …] }, got an object with keys ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`);
}

/** The stored form of a schedule given in a DAG file: durations in milliseconds, assets de-duplicated. */
export function serializeSchedule(schedule: Schedule | undefined, parsed: ParsedSchedule): SerializedSchedule {
  if (parsed.kind === 'interval') return { every: parsed.everyMs };
  if (parsed.kind === 'assets') {
    const { condition } = parsed;
    // A plain list (every asset) is stored as one; a nested condition as its normalized object.
    if (typeof condition === 'string') return { assets: [condition] };
    if ('all' in condition && condition.all.every((c) => typeof c === 'string')) return { assets: [...(condition.all as string[])] };
    return { assets: condition };
  }
  return typeof schedule === 'string' ? schedule.trim() : null;
}

/** A schedule in one line, for lists: the cron or preset, `every 30m`, `assets: a, b` (`assets: a | (b & c)`), or null. */
export function describeSchedule(schedule: SerializedSchedule): string | null {
  if (schedule === null || typeof schedule === 'string') return schedule;
  if ('every' in schedule) return `every ${ms(schedule.every)}`;
  return `assets: ${describeAssetCondition(Array.isArray(schedule.assets) ? { all: schedule.assets } : schedule.assets)}`;
}

/** The first cron tick strictly after `after`. */
export function cronNext(expression: string, after: Date, timezone: string): Date {
  return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone }).next().toDate();
}

/**
 * The last cron tick strictly before `before`. Walking backwards across a fall-back DST change,
 * cron-parser also yields the repeated wall-clock time a second time; a tick that walking forwards
 * from the tick before it would not produce is skipped, so both directions agree.
 */
export function cronPrev(expression: string, before: Date, timezone: string): Date {
  const iterator = CronExpressionParser.parse(expression, { currentDate: before, tz: timezone });
  let candidate = iterator.prev().toDate();
  for (let i = 0; i < 4; i++) {
    const previous = iterator.prev().toDate();
    if (cronNext(expression, previous, timezone).getTime() === candidate.getTime()) break;
    candidate = previous;
  }
  return candidate;
}

/** The first cron tick at or after `at`. */
export function cronAlignUp(expression: string, at: Date, timezone: string): Date {
  return cronNext(expression, new Date(at.getTime() - 1), timezone);
}

/** Limits a schedule is evaluated within. */
export interface ScheduleBounds {
  startDate: Date | null;
  endDate: Date | null;
  catchup: boolean;
  timezone: string;
}

/** The next run a schedule asks for. It may be created once `now >= runAfter`. */
export interface NextRun {
  logicalDate: Date;
  dataInterval: DataInterval;
  /** The earliest time the run may be created: the end of its data interval. */
  runAfter: Date;
}

/**
 * The next scheduled run after the last one (by its data interval), following Airflow's data interval
 * timetables: a run covers `[start, end)` and is due at the interval's end; its logical date is the
 * interval start. Cron intervals run from tick to tick; fixed intervals from `startDate` in steps of
 * `every`. Without catchup only the latest complete interval is considered. `@once` runs at the start
 * date; `@continuous` is due at once, its interval ending when the run is created (the scheduler
 * creates it only when no other run of the DAG is active). No run starts after the end date.
 * Returns null when the schedule creates no more runs (or, for assets, is not time-based).
 */
export function nextScheduledRun(
  schedule: ParsedSchedule,
  bounds: ScheduleBounds,
  last: DataInterval | null,
  now: Date,
): NextRun | null {
  if (schedule.kind === 'none' || schedule.kind === 'assets') return null;
  const next = nextInterval(schedule, bounds, last, now);
  if (next === null) return null;
  if (bounds.endDate !== null && next.start.getTime() > bounds.endDate.getTime()) return null;
  const runAfter = schedule.kind === 'continuous' ? new Date(Math.max(next.start.getTime(), now.getTime())) : next.end;
  return { logicalDate: next.start, dataInterval: next, runAfter };
}

function nextInterval(
  schedule: Exclude<ParsedSchedule, { kind: 'none' | 'assets' }>,
  bounds: ScheduleBounds,
  last: DataInterval | null,
  now: Date,
): DataInterval | null {
  const { startDate, timezone } = bounds;
  switch (schedule.kind) {
    case 'once':
      return last !== null || startDate === null ? null : { start: startDate, end: startDate };
    case 'continuous': {
      const start = last?.end ?? startDate;
      return start === null ? null : { start, end: start };
    }
    case 'interval': {
      if (startDate === null) return null;
      const every = schedule.everyMs;
      let start = last?.end ?? startDate;
      if (!bounds.catchup) {
        // The latest complete interval on the grid that starts at startDate.
        const steps = Math.floor((now.getTime() - startDate.getTime()) / every);
        const latestStart = startDate.getTime() + (steps - 1) * every;
        if (steps >= 1 && latestStart > start.getTime()) start = new Date(latestStart);
      }
      return { start, end: new Date(start.getTime() + every) };
    }
    case 'cron': {
      const { expression } = schedule;
      const from = last?.end ?? startDate;
      if (from === null) return null;
      let start = cronAlignUp(expression, from, timezone);
      if (!bounds.catchup) {
        // Skip to the latest complete interval: it ends at the last tick at or before now.
        const latestEnd = cronPrev(expression, new Date(now.getTime() + 1), timezone);
        const latestStart = cronPrev(expression, latestEnd, timezone);
        if (latestStart.getTime() > start.getTime()) start = latestStart;
      }
      return { start, end: cronNext(expression, start, timezone) };
    }
  }
}

/**
 * The data intervals of a time-based schedule whose logical dates (interval starts) fall within
 * `[from, to]` and which have ended by `now`, oldest first: what a backfill over that range covers.
 * Throws an `Error` for schedules without intervals (none, `@once`, `@continuous`, assets) and when
 * the range holds more than `limit` intervals.
 */
export function intervalsBetween(
  schedule: ParsedSchedule,
  dag: { timezone: string; startDate: Date | null },
  range: { from: Date; to: Date },
  now: Date,
  limit = 10_000,
): DataInterval[] {
  if (schedule.kind !== 'cron' && schedule.kind !== 'interval') {
    throw new Error(`only a cron, preset or fixed-interval schedule has intervals to backfill, not ${describeKind(schedule)}`);
  }
  let first = range.from;
  if (schedule.kind === 'interval' && dag.startDate !== null) {
    // Fixed intervals stay on the DAG's grid: startDate + k * every.
    const steps = Math.ceil((range.from.getTime() - dag.startDate.getTime()) / schedule.everyMs);
    first = new Date(dag.startDate.getTime() + steps * schedule.everyMs);
  }
  const intervals: DataInterval[] = [];
  const bounds: ScheduleBounds = { startDate: first, endDate: range.to, catchup: true, timezone: dag.timezone };
  let last: DataInterval | null = null;
  for (;;) {
    const next = nextScheduledRun(schedule, bounds, last, now);
    if (next === null || next.dataInterval.end.getTime() > now.getTime()) break;
    if (intervals.length >= limit) throw new Error(`the range holds more than ${limit} intervals; backfill it in parts`);
    intervals.push(next.dataInterval);
    last = next.dataInterval;
  }
  return intervals;
}

function describeKind(schedule: ParsedSchedule): string {
  switch (schedule.kind) {
    case 'none':
      return 'a DAG without a schedule';
    case 'once':
      return '@once';
    case 'continuous':
      return '@continuous';
    case 'assets':
      return 'an asset schedule';
    default:
      return schedule.kind;
  }
}

/**
 * Parse a date given in a DAG file. A string without an explicit offset is read in `timezone`.
 * Returns null for an invalid value.
 */
export function parseDateInZone(value: Date | string, timezone: string): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());
  const utc = new Date(hasOffset ? value : `${value.length === 10 ? `${value}T00:00:00` : value}Z`);
  if (Number.isNaN(utc.getTime())) return null;
  if (hasOffset || timezone === 'UTC') return utc;
  // Interpret the wall-clock time in `timezone`: shift by the zone's offset at that instant (twice, for DST edges).
  let guess = utc.getTime() - zoneOffsetMs(utc, timezone);
  guess = utc.getTime() - zoneOffsetMs(new Date(guess), timezone);
  return new Date(guess);
}

/** Offset of `timezone` from UTC at `at`, in milliseconds. @internal */
export function zoneOffsetMs(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}
