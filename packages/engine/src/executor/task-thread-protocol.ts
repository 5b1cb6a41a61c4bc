import type { AssetEventInfo, DataInterval, RunType } from '../dag/types.js';

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
  context: {
    dagId: string;
    runId: string;
    runType: RunType;
    taskId: string;
    mapIndex: number;
    tryNumber: number;
    maxTries: number;
    logicalDate: Date;
    dataInterval: DataInterval;
    params: Record<string, unknown>;
    upstream: Record<string, unknown>;
    args: Record<string, unknown>;
    triggeringAssetEvents: Readonly<Record<string, readonly AssetEventInfo[]>>;
  };
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
