export {
  MIN_INTERVAL_MS,
  SCHEDULE_PRESETS,
  checkAssetUri,
  cronAlignUp,
  cronNext,
  cronPrev,
  describeSchedule,
  intervalsBetween,
  isValidTimezone,
  nextScheduledRun,
  parseDateInZone,
  parseSchedule,
  serializeSchedule,
  type NextRun,
  type ParsedSchedule,
  type ScheduleBounds,
} from './schedule.js';
export {
  MAX_ASSET_URI_LENGTH,
  assetConditionMet,
  assetUris,
  describeAssetCondition,
  parseAssetCondition,
  type AssetCondition,
  type AssetConditionInput,
} from './assets.js';
export { BACKFILL_REPROCESS, backfillAction, type BackfillAction, type BackfillReprocess, type ExistingRunState } from './backfill.js';
