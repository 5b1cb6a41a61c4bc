import { z } from '@hono/zod-openapi';
import { RUN_STATES, TASK_STATES } from '../../db/schema.js';
import type { DagSummary } from '../../service/dags.js';
import type { DagDetail, DagVersionSummary } from '../../service/dag-details.js';
import type { RunSummary, TaskInstanceDetail, TaskTrySummary } from '../../service/run-queries.js';
import type { TaskInstanceSummary } from '../../service/runs.js';
import { iso } from './common.js';

const Timestamp = z.string().openapi({ format: 'date-time', example: '2024-05-01T06:30:00.000Z' });
const RunState = z.enum(RUN_STATES);
const TaskState = z.enum(TASK_STATES).nullable();

/** A DAG in a list. */
export const DagSchema = z
  .object({
    dagId: z.string().openapi({ example: 'etl' }),
    file: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.array(z.string()),
    schedule: z.string().nullable().openapi({ example: '@daily' }),
    timezone: z.string(),
    isPaused: z.boolean(),
    isActive: z.boolean(),
    latestVersion: z.number().int().nullable(),
    nextRunAfter: Timestamp.nullable(),
    nextLogicalDate: Timestamp.nullable(),
    lastRun: z.object({ runId: z.string(), state: RunState, logicalDate: Timestamp }).nullable(),
  })
  .openapi('Dag');

/** A DAG with its definition. */
export const DagDetailSchema = DagSchema.extend({
  maxActiveRuns: z.number().int(),
  maxActiveTasks: z.number().int(),
  lastParsedAt: Timestamp.nullable(),
  definition: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'The serialized DAG: tasks, params schema, options' }),
}).openapi('DagDetail');

export const DagVersionSchema = z
  .object({ versionNumber: z.number().int(), hash: z.string(), createdAt: Timestamp, taskCount: z.number().int() })
  .openapi('DagVersion');

export const RunSchema = z
  .object({
    dagId: z.string(),
    runId: z.string().openapi({ example: 'manual__2024-05-01T06:30:00.000Z' }),
    runType: z.enum(['scheduled', 'manual', 'backfill', 'asset_triggered', 'test']),
    state: RunState,
    logicalDate: Timestamp,
    dataIntervalStart: Timestamp,
    dataIntervalEnd: Timestamp,
    conf: z.record(z.string(), z.unknown()).openapi({ description: 'The validated params of the run' }),
    triggeredBy: z.string().nullable(),
    note: z.string().nullable(),
    versionNumber: z.number().int(),
    createdAt: Timestamp,
    queuedAt: Timestamp.nullable(),
    startDate: Timestamp.nullable(),
    endDate: Timestamp.nullable(),
  })
  .openapi('DagRun');

export const TaskInstanceSchema = z
  .object({
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: TaskState,
    tryNumber: z.number().int(),
    maxTries: z.number().int(),
    startDate: Timestamp.nullable(),
    endDate: Timestamp.nullable(),
    durationMs: z.number().nullable(),
  })
  .openapi('TaskInstance');

export const TaskInstanceDetailSchema = z
  .object({
    dagId: z.string(),
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: TaskState,
    tryNumber: z.number().int(),
    maxTries: z.number().int(),
    pool: z.string(),
    poolSlots: z.number().int(),
    priorityWeight: z.number().int(),
    queue: z.string(),
    operator: z.string().nullable(),
    executor: z.string().nullable(),
    hostname: z.string().nullable(),
    workerId: z.string().nullable(),
    pid: z.number().int().nullable(),
    queuedAt: Timestamp.nullable(),
    startDate: Timestamp.nullable(),
    endDate: Timestamp.nullable(),
    heartbeatAt: Timestamp.nullable(),
    nextRetryAt: Timestamp.nullable().openapi({ description: 'When an up_for_retry instance retries, or an up_for_reschedule sensor pokes again' }),
    renderedArgs: z.unknown().openapi({ description: 'The arguments the task ran with' }),
  })
  .openapi('TaskInstanceDetail');

export const TaskTrySchema = z
  .object({
    tryNumber: z.number().int(),
    state: z.enum(TASK_STATES),
    hostname: z.string().nullable(),
    workerId: z.string().nullable(),
    startDate: Timestamp,
    endDate: Timestamp.nullable(),
    durationMs: z.number().nullable(),
    error: z.object({ name: z.string(), message: z.string(), code: z.string().optional(), stack: z.string().optional() }).nullable(),
  })
  .openapi('TaskTry');

export const ChangedSchema = z
  .object({ changed: z.array(z.object({ taskId: z.string(), mapIndex: z.number().int(), previousState: TaskState })) })
  .openapi('ChangedTaskInstances');

/** JSON shape of a DAG. */
export function dagJson(d: DagSummary): z.infer<typeof DagSchema> {
  return {
    ...d,
    nextRunAfter: iso(d.nextRunAfter),
    nextLogicalDate: iso(d.nextLogicalDate),
    lastRun: d.lastRun ? { ...d.lastRun, logicalDate: d.lastRun.logicalDate.toISOString() } : null,
  };
}

export function dagDetailJson(d: DagDetail): z.infer<typeof DagDetailSchema> {
  return {
    ...dagJson(d),
    maxActiveRuns: d.maxActiveRuns,
    maxActiveTasks: d.maxActiveTasks,
    lastParsedAt: iso(d.lastParsedAt),
    definition: d.definition as unknown as Record<string, unknown> | null,
  };
}

export function versionJson(v: DagVersionSummary): z.infer<typeof DagVersionSchema> {
  return { ...v, createdAt: v.createdAt.toISOString() };
}

export function runJson(r: RunSummary): z.infer<typeof RunSchema> {
  return {
    dagId: r.dagId, runId: r.runId, runType: r.runType, state: r.state, logicalDate: r.logicalDate.toISOString(),
    dataIntervalStart: r.dataIntervalStart.toISOString(), dataIntervalEnd: r.dataIntervalEnd.toISOString(), conf: r.conf,
    triggeredBy: r.triggeredBy, note: r.note, versionNumber: r.versionNumber, createdAt: r.createdAt.toISOString(),
    queuedAt: iso(r.queuedAt), startDate: iso(r.startDate), endDate: iso(r.endDate),
  };
}

export function taskInstanceJson(t: TaskInstanceSummary): z.infer<typeof TaskInstanceSchema> {
  return { taskId: t.taskId, mapIndex: t.mapIndex, state: t.state, tryNumber: t.tryNumber, maxTries: t.maxTries, startDate: iso(t.startDate), endDate: iso(t.endDate), durationMs: t.durationMs };
}

export function taskInstanceDetailJson(t: TaskInstanceDetail): z.infer<typeof TaskInstanceDetailSchema> {
  const { id: _id, externalId: _external, ...rest } = t;
  return {
    ...rest,
    queuedAt: iso(t.queuedAt), startDate: iso(t.startDate), endDate: iso(t.endDate), heartbeatAt: iso(t.heartbeatAt), nextRetryAt: iso(t.nextRetryAt),
  };
}

export function tryJson(t: TaskTrySummary): z.infer<typeof TaskTrySchema> {
  return { ...t, startDate: t.startDate.toISOString(), endDate: iso(t.endDate) };
}
