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
 * wall-clock time skipped by a DST change comes an hour on (02:30 becomes 03:30), as the clocks jump;
 * a repeated one comes at its first occurrence.
 */
export function timeSensorTarget(args: TimeSensorArgs, dataIntervalEnd: Date): Date {
  const timezone = args.timezone ?? 'UTC';
  const local = new Date(dataIntervalEnd.getTime() + zoneOffsetMs(dataIntervalEnd, timezone));
  const wallClock = `${local.toISOString().slice(0, 10)}T${args.time.length === 5 ? `${args.time}:00` : args.time}`;
  const guess = parseDateInZone(wallClock, timezone)!;
  const wanted = Date.parse(`${wallClock}Z`);
  if (guess.getTime() + zoneOffsetMs(guess, timezone) === wanted) return guess;
  // The time falls in a DST gap (02:30 on a spring-forward day): it comes when clocks jump past it.
  return new Date(wanted - zoneOffsetMs(new Date(guess.getTime() - 6 * 3_600_000), timezone));
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
