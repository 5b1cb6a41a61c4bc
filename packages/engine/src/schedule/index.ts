export {
  SCHEDULE_PRESETS,
  cronAlignUp,
  cronNext,
  cronPrev,
  isValidTimezone,
  nextScheduledRun,
  parseDateInZone,
  parseSchedule,
  type NextRun,
  type ParsedSchedule,
  type ScheduleBounds,
} from './schedule.js';
