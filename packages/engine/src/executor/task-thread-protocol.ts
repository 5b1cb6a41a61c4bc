import type { TaskContext } from '../dag/types.js';

/** The fields of a task's context that are cloned into a thread. @internal */
export const CLONED_CONTEXT_KEYS = [
  'dagId', 'runId', 'runType', 'taskId', 'mapIndex', 'tryNumber', 'maxTries',
  'logicalDate', 'dataInterval', 'params', 'upstream', 'args', 'triggeringAssetEvents',
] as const satisfies readonly (keyof TaskContext)[];

/** A task's context as a thread receives it. @internal */
export type ClonedTaskContext = Pick<TaskContext, (typeof CLONED_CONTEXT_KEYS)[number]>;

/**
 * Messages between a worker and the threads of the `thread` executor. Everything crosses by
 * structured clone: dates stay dates, functions do not cross.
 * @internal
 */
export interface ThreadRunRequest {
  type: 'run';
  /** Numbers the tries a thread runs, so a late message of an earlier try is never taken for this one's. */
  id: number;
  /** Absolute path of the DAG file. */
  file: string;
  /** The task's outlet URIs (for `ctx.outletEvents`). */
  outlets: readonly string[];
  /** The try's context without what cannot cross (log, signal, outlet events: the thread makes its own). */
  context: ClonedTaskContext;
}

/** Abort the try `id`: the thread aborts its context's signal with this reason. @internal */
export interface ThreadAbortRequest {
  type: 'abort';
  id: number;
  reason: { name: string; message: string };
}

/** An error thrown by a task, as it crosses back. @internal */
export interface ThreadError {
  name: string;
  message: string;
  stack: string | null;
  code: string | null;
  /** The task skipped itself (`SkipTaskError`). */
  skip: boolean;
}

/** What a thread reports. @internal */
export type ThreadMessage =
  | { type: 'ready' }
  | { type: 'log'; id: number; level: string; message: string; at: Date }
  | { type: 'result'; id: number; value: unknown; outletExtras: Record<string, Record<string, unknown>> }
  | { type: 'error'; id: number; error: ThreadError };
