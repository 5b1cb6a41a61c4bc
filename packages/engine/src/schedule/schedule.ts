import { CronExpressionParser } from 'cron-parser';
import type { DataInterval } from '../dag/types.js';

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

/** A schedule after parsing. */
export type ParsedSchedule =
  | { kind: 'none' }
  | { kind: 'once' }
  | { kind: 'cron'; expression: string };

/** True when `timezone` is an IANA zone this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  if (typeof timezone !== 'string' || timezone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse a DAG's `schedule` value. Throws an `Error` whose message says what is wrong and what is expected.
 */
export function parseSchedule(schedule: string | null | undefined, timezone = 'UTC'): ParsedSchedule {
  if (schedule === null || schedule === undefined) return { kind: 'none' };
  if (typeof schedule !== 'string') throw new Error(`expected a cron string, a preset or null, got ${typeof schedule}`);
  const trimmed = schedule.trim();
  if (trimmed === '@once') return { kind: 'once' };
  const expression = trimmed.startsWith('@') ? SCHEDULE_PRESETS[trimmed] : trimmed;
  if (expression === undefined) {
    throw new Error(`unknown preset '${trimmed}' (expected one of @once, ${Object.keys(SCHEDULE_PRESETS).join(', ')})`);
  }
  const fields = expression.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new Error(`invalid cron '${schedule}': expected 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields}`);
  }
  if (!isValidTimezone(timezone)) throw new Error(`unknown time zone '${timezone}'`);
  try {
    CronExpressionParser.parse(expression, { tz: timezone });
  } catch (error) {
    throw new Error(`invalid cron '${schedule}': ${(error as Error).message}`);
  }
  return { kind: 'cron', expression };
}

/** The first cron tick strictly after `after`. */
export function cronNext(expression: string, after: Date, timezone: string): Date {
  return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone }).next().toDate();
}

/** The last cron tick strictly before `before`. */
export function cronPrev(expression: string, before: Date, timezone: string): Date {
  return CronExpressionParser.parse(expression, { currentDate: before, tz: timezone }).prev().toDate();
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
 * The next scheduled run after the last one (by its data interval), following Airflow's cron data
 * interval timetable: a run covers `[tick, next tick)` and is due at the interval's end; its logical
 * date is the interval start. Without catchup only the latest complete interval is considered.
 * Returns null when the schedule creates no more runs.
 */
export function nextScheduledRun(
  schedule: ParsedSchedule,
  bounds: ScheduleBounds,
  last: DataInterval | null,
  now: Date,
): NextRun | null {
  if (schedule.kind === 'none') return null;
  if (schedule.kind === 'once') {
    if (last !== null || bounds.startDate === null) return null;
    const at = bounds.startDate;
    return { logicalDate: at, dataInterval: { start: at, end: at }, runAfter: at };
  }
  const { expression } = schedule;
  const { timezone } = bounds;
  let start: Date;
  if (last !== null) {
    start = cronAlignUp(expression, last.end, timezone);
  } else if (bounds.startDate !== null) {
    start = cronAlignUp(expression, bounds.startDate, timezone);
  } else {
    return null;
  }
  if (!bounds.catchup) {
    // Skip to the latest complete interval: it ends at the last tick at or before now.
    const latestEnd = cronPrev(expression, new Date(now.getTime() + 1), timezone);
    const latestStart = cronPrev(expression, latestEnd, timezone);
    if (latestStart.getTime() > start.getTime()) start = latestStart;
  }
  if (bounds.endDate !== null && start.getTime() > bounds.endDate.getTime()) return null;
  const end = cronNext(expression, start, timezone);
  return { logicalDate: start, dataInterval: { start, end }, runAfter: end };
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
