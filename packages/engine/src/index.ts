/**
 * @tributary/engine — write DAGs in TypeScript, run them through Postgres.
 * @packageDocumentation
 */
export * from './dag/index.js';
export * from './errors.js';
export { DEFAULT_ENGINE_CONFIG, resolveEngineConfig, type EngineConfig, type ResolvedEngineConfig } from './config.js';
export { DEFAULT_XCOM_OFFLOAD, xcomObjectKey, type ResolvedXcomOffloadConfig, type XcomObjectRef, type XcomOffloadConfig } from './storage/xcom-store.js';
export { Tributary } from './engine.js';
export * from './plugin/index.js';
export {
  BACKFILL_REPROCESS,
  assetConditionMet,
  describeAssetCondition,
  parseAssetCondition,
  type AssetCondition,
  type AssetConditionInput,
  SCHEDULE_PRESETS,
  backfillAction,
  describeSchedule,
  intervalsBetween,
  isValidTimezone,
  nextScheduledRun,
  parseSchedule,
  type BackfillAction,
  type BackfillReprocess,
  type NextRun,
  type ParsedSchedule,
  type ScheduleBounds,
} from './schedule/index.js';
export * from './service/index.js';
export {
  FINISHED_TASK_STATES,
  RUN_STATES,
  TASK_STATES,
  connectDatabase,
  migrateDatabase,
  startEmbeddedPostgres,
  type Database,
  type DatabaseHandle,
  type DagRunRow,
  type RunState,
  type TaskInstanceRow,
  type TaskState,
} from './db/index.js';
export { DagProcessor, discoverDagFiles, parseDagFiles, type FileParseResult, type ParseOptions, type ParseRunSummary } from './processor/index.js';
export { DEFAULT_SCHEDULER_CONFIG, RunExistsError, Scheduler, type SchedulerConfig } from './scheduler/index.js';
export { DEFAULT_WORKER_CONFIG, Worker, type WorkerConfig } from './worker/index.js';
export { CallbackRunner } from './callback/index.js';
export { OUTCOME_RECORDED, type Executor, type TaskExecution } from './executor/executor.js';
export {
  DEFAULT_KUBERNETES_CONFIG,
  resolveKubernetesConfig,
  type KubernetesConfig,
  type ResolvedKubernetesConfig,
} from './executor/kubernetes-config.js';
