import type { SerializedSchedule, TaskContext } from '../dag/types.js';
import { nextScheduledRun, parseSchedule } from '../schedule/schedule.js';

/** Arguments of the built-in `tributary.latestOnly` operator, filled in by `Dag.latestOnly()`. */
export interface LatestOnlyArgs {
  schedule: SerializedSchedule;
  timezone: string;
  /** The DAG's start date (ISO 8601), which fixed-interval schedules count from. */
  startDate?: string | null;
}

/**
 * Whether a run is the latest of its DAG (Airflow's `LatestOnlyOperator`): runs not created by the
 * schedule (manual, test, asset-triggered) always are; a scheduled or backfill run is when the run
 * after it is not due yet — now falls before the end of the next data interval.
 */
export function isLatestRun(args: LatestOnlyArgs, context: Pick<TaskContext, 'runType' | 'dataInterval' | 'log'>, now = new Date()): boolean {
  if (context.runType !== 'scheduled' && context.runType !== 'backfill') {
    context.log.info(`Run type '${context.runType}' is not scheduled: downstream tasks proceed`);
    return true;
  }
  const next = nextScheduledRun(
    parseSchedule(args.schedule, args.timezone),
    { startDate: args.startDate ? new Date(args.startDate) : null, endDate: null, catchup: true, timezone: args.timezone },
    context.dataInterval,
    now,
  );
  if (next === null) return true;
  const latest = now.getTime() < next.dataInterval.end.getTime();
  context.log.info(
    latest
      ? 'This is the latest run: downstream tasks proceed'
      : `Not the latest run (the run for ${next.dataInterval.start.toISOString()} is already due): skipping downstream tasks`,
  );
  return latest;
}
