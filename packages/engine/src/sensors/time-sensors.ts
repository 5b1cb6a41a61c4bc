import { durationToMs } from '../dag/duration.js';
import type { TaskContext } from '../dag/types.js';
import { parseDateInZone, zoneOffsetMs } from '../schedule/schedule.js';
import type { DateTimeSensorArgs, TimeDeltaSensorArgs, TimeSensorArgs } from './sensor-args.js';

type Context = Pick<TaskContext, 'dataInterval' | 'log'>;

function reached(target: Date, context: Context, now: Date): boolean {
  const done = now.getTime() >= target.getTime();
  context.log.info(done ? `Reached ${target.toISOString()}` : `Waiting until ${target.toISOString()}`);
  return done;
}

/**
 * The moment `time` (HH:MM[:SS]) falls on the day the run's data interval ends, in `timezone`. A
 * wall-clock time skipped by a DST change falls at the shifted instant.
 */
export function timeSensorTarget(args: TimeSensorArgs, dataIntervalEnd: Date): Date {
  const timezone = args.timezone ?? 'UTC';
  const local = new Date(dataIntervalEnd.getTime() + zoneOffsetMs(dataIntervalEnd, timezone));
  const day = local.toISOString().slice(0, 10);
  return parseDateInZone(`${day}T${args.time.length === 5 ? `${args.time}:00` : args.time}`, timezone)!;
}

/** `timeSensor`: done once the time of day has come on the day the run's data interval ends (Airflow's `TimeSensor`). */
export function pokeTime(args: TimeSensorArgs, context: Context, now = new Date()): boolean {
  return reached(timeSensorTarget(args, context.dataInterval.end), context, now);
}

/** `dateTimeSensor`: done once `target` has passed (Airflow's `DateTimeSensor`). */
export function pokeDateTime(args: DateTimeSensorArgs, context: Context, now = new Date()): boolean {
  const target = parseDateInZone(args.target, args.timezone ?? 'UTC');
  if (!target) throw new TypeError(`dateTimeSensor(): option 'target': expected an ISO 8601 date and time, got '${args.target}'`);
  return reached(target, context, now);
}

/** `timeDeltaSensor`: done once `delta` has passed since the run's data interval ended (Airflow's `TimeDeltaSensor`). */
export function pokeTimeDelta(args: TimeDeltaSensorArgs, context: Context, now = new Date()): boolean {
  return reached(new Date(context.dataInterval.end.getTime() + (durationToMs(args.delta) as number)), context, now);
}
