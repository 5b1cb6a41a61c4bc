export { advanceRun, advanceRuns, type AdvanceRequest, type AdvanceResult, type RunAdvance } from './advance.js';
export { VersionCache, structureOf, type DagStructure, type EngineContext, type EngineTimings } from './context.js';
export { computeNextRuns } from './next-run.js';
export { queueScheduled } from './queue-scheduled.js';
export { RetryWaker } from './retry-waker.js';
export {
  RunExistsError,
  createRun,
  defaultRunId,
  finishRunIfDone,
  finishRunsIfDone,
  startQueuedRuns,
  type NewRun,
} from './run-lifecycle.js';
export { DEFAULT_SCHEDULER_CONFIG, Scheduler, type SchedulerConfig, type SchedulerPassSummary } from './scheduler.js';
export { afterTaskFinished, type FinishedTask } from './after-finish.js';
export {
  claimTaskInstance,
  recordFailure,
  recordSkipped,
  recordSuccess,
  retryDelayMs,
  upstreamResults,
  wakeRetry,
  type ClaimedTaskInstance,
  type FailureOutcome,
  type WorkerIdentity,
} from './task-transitions.js';
