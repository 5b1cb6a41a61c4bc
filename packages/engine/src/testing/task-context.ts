import type { TaskContext, TaskLogger } from '../dag/types.js';
import { OutletEventCollector } from '../worker/outlet-events.js';

/** A logger that keeps its lines, for assertions. */
export interface RecordingTaskLogger extends TaskLogger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[];
}

function recordingLogger(): RecordingTaskLogger {
  const lines: RecordingTaskLogger['lines'] = [];
  const at =
    (level: string) =>
    (first: string | Record<string, unknown>, message?: string): void => {
      if (typeof first === 'string') lines.push({ level, message: first });
      else lines.push({ level, message: message ?? '', fields: first });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as RecordingTaskLogger;
}

/**
 * A complete task context for calling a task function or an operator's implementation directly in a
 * test: every field a worker provides, with test defaults (a `test` run at the current time, no
 * params, upstream results or arguments, a logger that records its lines, no outlets) that
 * `overrides` replace.
 *
 * @example
 * const ctx = createTaskContext({ params: { county: 'king_wa' }, outlets: ['s3://bucket/listings'] });
 * await scrape.run(args, ctx, runtime);
 * expect(ctx.log.lines).toContainEqual(expect.objectContaining({ level: 'info' }));
 */
export function createTaskContext<P = Record<string, unknown>, U = Record<string, unknown>, A = Record<string, unknown>>(
  overrides: Partial<Omit<TaskContext<P, U, A>, 'log' | 'outletEvents'>> & { outlets?: readonly string[] } = {},
): TaskContext<P, U, A> & { log: RecordingTaskLogger } {
  const now = new Date();
  const { outlets = [], ...fields } = overrides;
  const dagId = fields.dagId ?? 'test_dag';
  const taskId = fields.taskId ?? 'test_task';
  return {
    runId: `test__${now.toISOString()}`,
    runType: 'test',
    mapIndex: -1,
    tryNumber: 1,
    maxTries: 1,
    logicalDate: now,
    dataInterval: { start: now, end: now },
    params: {} as P,
    upstream: {} as U,
    args: {} as A,
    signal: new AbortController().signal,
    triggeringAssetEvents: {},
    ...fields,
    dagId,
    taskId,
    log: recordingLogger(),
    outletEvents: new OutletEventCollector({ dagId, taskId }, outlets),
  };
}
