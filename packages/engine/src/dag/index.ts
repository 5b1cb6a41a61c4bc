export {
  DAG_CALLBACK_KINDS,
  DEADLINE_REFERENCES,
  TASK_CALLBACK_KINDS,
  type DagCallbackKind,
  type DagRunCallback,
  type DagRunCallbackContext,
  type DeadlineOptions,
  type DeadlineReference,
  type SerializedDeadline,
  type TaskCallback,
  type TaskCallbackContext,
  type TaskCallbackKind,
} from './callbacks.js';
export { Dag, dag, isDag, type ResolvedDagOptions, type TaskDefinition } from './dag.js';
export { BranchChoiceError, SKIP_DECISION_KEY, skippedByFlow, type BranchChoice } from './flow.js';
export { DEFAULT_MAX_MAP_LENGTH, TaskMappingError, type ExpandInput, type MappedArgs, type SerializedExpandSource } from './mapping.js';
export {
  DEFAULT_SENSOR_OPTIONS,
  SENSOR_MODES,
  SensorFailedError,
  SensorTimeoutError,
  type PokeResult,
  type ResolvedSensorOptions,
  type SensorMode,
  type SensorOptions,
} from './sensor-options.js';
export {
  TaskBuilder,
  TaskGroup,
  type GroupOptions,
  type MappedTaskOptions,
  type PlainTaskOptions,
  type PokeFunction,
  type ShortCircuitOptions,
} from './task-builder.js';
export { DEFAULT_MAX_ACTIVE_RUNS, DEFAULT_MAX_ACTIVE_TASKS, DEFAULT_TASK_OPTIONS } from './options.js';
export { validateParams } from './params.js';
export { hashSerializedDag, serializeDag } from './serialize.js';
export {
  EMPTY_UPSTREAM_COUNTS,
  evaluateTriggerRule,
  type TriggerDecision,
  type UpstreamStateCounts,
} from './trigger-rules.js';
export { validateDag } from './validate.js';
export {
  EXECUTOR_NAMES,
  TRIGGER_RULES,
  WEIGHT_RULES,
  type AssetEventInfo,
  type AssetSchedule,
  type DagOptions,
  type DataInterval,
  type Duration,
  type ExecutorName,
  type GroupRef,
  type IntervalSchedule,
  type OperatorSpec,
  type OutletEvent,
  type OutletEvents,
  type ParamsOf,
  type ParamsSchema,
  type ResolvedTaskOptions,
  type RunType,
  type Schedule,
  type SerializedSchedule,
  type SerializedDag,
  type SerializedFlow,
  type SerializedTask,
  type TaskContext,
  type TaskDefinitionOptions,
  type TaskFunction,
  type TaskLogger,
  type TaskOptions,
  type TaskRef,
  type TeardownOptions,
  type TriggerRule,
  type UpstreamRef,
  type UpstreamResults,
  type WeightRule,
} from './types.js';
