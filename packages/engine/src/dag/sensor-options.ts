import { DagDefinitionError, TributaryError, type ErrorLocation } from '../errors.js';
import { durationToMs } from './duration.js';
import type { Duration } from './types.js';

/** How a sensor waits between pokes. */
export const SENSOR_MODES = ['poke', 'reschedule'] as const;
export type SensorMode = (typeof SENSOR_MODES)[number];

/** Options of a sensor task (its `sensor` option). */
export interface SensorOptions {
  /**
   * `'poke'` keeps the try running (and its worker slot taken) between pokes; `'reschedule'` ends
   * each poke, puts the instance in `up_for_reschedule` and frees the slot until the next poke.
   * @defaultValue `'poke'`
   */
  mode?: SensorMode;
  /**
   * Wait between pokes.
   * @defaultValue `'60s'`
   */
  pokeInterval?: Duration;
  /**
   * Longest the sensor may wait in all, from its first poke of the try, across reschedules. When it
   * runs out the task fails without retrying (or is skipped with `softFail`). Distinct from
   * `executionTimeout`, which limits each try.
   * @defaultValue `'7d'`
   */
  timeout?: Duration;
  /**
   * On timeout, end as `skipped` instead of `failed`.
   * @defaultValue false
   */
  softFail?: boolean;
  /**
   * Double the wait after each unsuccessful poke: `pokeInterval * 2^(poke - 1)`, capped by `maxWait`
   * and by the time left before `timeout`.
   * @defaultValue false
   */
  exponentialBackoff?: boolean;
  /**
   * Longest wait between pokes with exponential backoff.
   * @defaultValue null (no cap but the timeout)
   */
  maxWait?: Duration | null;
}

/** Sensor options with defaults applied, in milliseconds. */
export interface ResolvedSensorOptions {
  mode: SensorMode;
  pokeIntervalMs: number;
  timeoutMs: number;
  softFail: boolean;
  exponentialBackoff: boolean;
  maxWaitMs: number | null;
}

/** Defaults of {@link SensorOptions} (Airflow's). */
export const DEFAULT_SENSOR_OPTIONS: Readonly<ResolvedSensorOptions> = Object.freeze({
  mode: 'poke',
  pokeIntervalMs: 60_000,
  timeoutMs: 7 * 24 * 3_600_000,
  softFail: false,
  exponentialBackoff: false,
  maxWaitMs: null,
});

const SENSOR_OPTION_KEYS = ['mode', 'pokeInterval', 'timeout', 'softFail', 'exponentialBackoff', 'maxWait'];

/** Validate a task's `sensor` option and apply defaults; errors name the field. @internal */
export function resolveSensorOptions(options: SensorOptions | undefined, location: ErrorLocation): ResolvedSensorOptions {
  const resolved: ResolvedSensorOptions = { ...DEFAULT_SENSOR_OPTIONS };
  if (options === undefined) return resolved;
  const fail = (field: string, message: string): never => {
    throw new DagDefinitionError(`option 'sensor.${field}': ${message}`, { ...location, field: `sensor.${field}` });
  };
  if (options === null || typeof options !== 'object') {
    throw new DagDefinitionError(`option 'sensor': expected an object`, { ...location, field: 'sensor' });
  }
  for (const key of Object.keys(options)) {
    if (!SENSOR_OPTION_KEYS.includes(key)) fail(key, `unknown option (expected one of ${SENSOR_OPTION_KEYS.join(', ')})`);
  }
  const duration = (field: string, value: Duration, min: number): number => {
    const ms = durationToMs(value);
    if (typeof ms === 'string') return fail(field, ms);
    return ms < min ? fail(field, `must be at least ${min} ms, got ${ms} ms`) : ms;
  };
  const flag = (field: 'softFail' | 'exponentialBackoff'): boolean => {
    const value = options[field];
    if (value === undefined) return DEFAULT_SENSOR_OPTIONS[field];
    return typeof value === 'boolean' ? value : fail(field, 'expected true or false');
  };
  if (options.mode !== undefined) {
    if (!SENSOR_MODES.includes(options.mode)) fail('mode', `expected 'poke' or 'reschedule', got ${JSON.stringify(options.mode)}`);
    resolved.mode = options.mode;
  }
  if (options.pokeInterval !== undefined) resolved.pokeIntervalMs = duration('pokeInterval', options.pokeInterval, 1);
  if (options.timeout !== undefined) resolved.timeoutMs = duration('timeout', options.timeout, 1);
  if (options.maxWait !== undefined && options.maxWait !== null) resolved.maxWaitMs = duration('maxWait', options.maxWait, 1);
  resolved.softFail = flag('softFail');
  resolved.exponentialBackoff = flag('exponentialBackoff');
  return resolved;
}

/**
 * Wait before the next poke after poke number `pokes` (1-based) came back not done, `elapsedMs` into
 * the sensor's timeout: the interval (doubled per poke with exponential backoff, capped by `maxWait`),
 * never past the timeout.
 */
export function nextPokeDelayMs(sensor: ResolvedSensorOptions, pokes: number, elapsedMs: number): number {
  let delay = sensor.pokeIntervalMs;
  if (sensor.exponentialBackoff) {
    delay = sensor.pokeIntervalMs * 2 ** Math.min(Math.max(0, pokes - 1), 40);
    if (sensor.maxWaitMs !== null) delay = Math.min(delay, sensor.maxWaitMs);
  }
  return Math.max(0, Math.min(delay, sensor.timeoutMs - elapsedMs));
}

/** What a poke may return: whether the condition is met, and optionally the task's result. */
export interface PokeResult<R = unknown> {
  done: boolean;
  /** The sensor task's result when `done`. */
  value?: R;
}

/** A sensor's condition was not met within its `timeout`. */
export class SensorTimeoutError extends TributaryError {
  constructor(dagId: string, taskId: string, timeoutMs: number, pokes: number) {
    super('SENSOR_TIMEOUT', `DAG '${dagId}': sensor '${taskId}' timed out: its condition was not met within ${timeoutMs} ms (${pokes} poke(s))`, {
      location: { dagId, taskId },
    });
  }
}

/**
 * Thrown by a poke when the sensor's condition can no longer be met (the watched task failed): the try
 * fails and is retried as usual, or with `softFail` the sensor is skipped (as Airflow's sensors do).
 */
export class SensorFailedError extends TributaryError {}

/** Read a poke's return value; throws naming the task when it is neither a boolean nor a {@link PokeResult}. */
export function interpretPoke(value: unknown, where: { dagId: string; taskId: string }): { done: boolean; value: unknown } {
  if (typeof value === 'boolean') return { done: value, value: undefined };
  if (value !== null && typeof value === 'object' && typeof (value as PokeResult).done === 'boolean') {
    const result = value as PokeResult;
    return { done: result.done, value: result.value };
  }
  throw new TributaryError(
    'SENSOR_POKE_INVALID',
    `DAG '${where.dagId}': sensor '${where.taskId}': a poke must return true, false or { done, value }, got ${value === null ? 'null' : typeof value}`,
    { location: where },
  );
}
