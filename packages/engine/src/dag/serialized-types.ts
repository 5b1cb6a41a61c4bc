import type { DagCallbackKind, SerializedDeadline, TaskCallbackKind } from './callbacks.js';
import type { SerializedExpandSource } from './mapping.js';
import type { ResolvedSensorOptions } from './sensor-options.js';
import type { ParamsSchema, ResolvedTaskOptions, SerializedSchedule } from './types.js';

// The serialized forms of DAGs and tasks (stored in `dag_version`, read by the scheduler and the
// monitor). Re-exported by `types.ts`.

/** What a flow-control task decides once it succeeds. */
export type SerializedFlow = { kind: 'branch' } | { kind: 'short_circuit'; ignoreDownstreamTriggerRules: boolean };

/** The serialized form of one task, stored in `dag_version` and read by the scheduler. */
export interface SerializedTask extends ResolvedTaskOptions {
  taskId: string;
  kind: 'function' | 'operator';
  operator: string | null;
  plugin: string | null;
  args: unknown;
  /** Source text of an inline function, for display and versioning. */
  source: string | null;
  upstream: string[];
  downstream: string[];
  /** Priority after applying the weight rule. */
  effectivePriority: number;
  docs: string | null;
  /** The innermost task group holding the task (`outer.inner`), null at the DAG's top level. */
  group: string | null;
  /** The inputs of a mapped task, in declaration order; null for an unmapped task. */
  expand: SerializedExpandSource[] | null;
  /** The task's own map length cap; null for the engine's. */
  maxMapLength: number | null;
  /** Branching or short-circuiting, null for an ordinary task. */
  flow: SerializedFlow | null;
  /** How the sensor waits, null when the task is not a sensor. */
  sensor: ResolvedSensorOptions | null;
  isSetup: boolean;
  isTeardown: boolean;
  /** For a teardown: its failure fails the run. */
  failRunOnFailure: boolean;
  /** Asset URIs the task updates; absent when none. */
  outlets?: string[];
  /** The kinds of callback the task has (their functions stay in the DAG file); absent when none. */
  callbacks?: TaskCallbackKind[];
}

/** The serialized form of a DAG; its hash is the DAG version. */
export interface SerializedDag {
  formatVersion: 1;
  dagId: string;
  description: string | null;
  docs: string | null;
  schedule: SerializedSchedule;
  timezone: string;
  startDate: string | null;
  endDate: string | null;
  catchup: boolean;
  tags: string[];
  pausedOnCreation: boolean;
  params: ParamsSchema | null;
  maxActiveRuns: number;
  maxActiveTasks: number;
  /** File the DAG came from, relative to the project directory. */
  file: string | null;
  tasks: SerializedTask[];
  /** The kinds of DAG callback it has; absent when none. */
  callbacks?: DagCallbackKind[];
  /** Its deadline alert; absent when none. */
  deadline?: SerializedDeadline;
}
