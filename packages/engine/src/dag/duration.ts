import ms from 'ms';
import type { Duration } from './types.js';

/**
 * Convert a {@link Duration} to milliseconds, or return an error message naming what was expected.
 * @internal
 */
export function durationToMs(value: Duration): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : `expected a non-negative number of milliseconds, got ${value}`;
  }
  if (typeof value === 'string') {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0) return parsed;
    return `expected a duration such as '30s', '5m' or '2h', got '${value}'`;
  }
  return `expected a duration (milliseconds or a string such as '5m'), got ${typeof value}`;
}
