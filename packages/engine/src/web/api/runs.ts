import { createRoute, z } from '@hono/zod-openapi';
import { RUN_STATES } from '../../db/schema.js';
import { cancelRun, clearTaskInstances, markTaskInstances } from '../../service/actions.js';
import { getTaskLogs } from '../../service/logs.js';
import { getRunSummary, getTaskInstance, getTaskXcom, listRuns, listTaskTries } from '../../service/run-queries.js';
import { listTaskInstances } from '../../service/runs.js';
import { requestActor, requireRole } from '../auth/middleware.js';
import { body, ERROR_RESPONSES, int32, json, PageQuery, type Api } from './common.js';
import {
  ChangedSchema,
  RunSchema,
  TaskInstanceDetailSchema,
  TaskInstanceSchema,
  TaskTrySchema,
  runJson,
  taskInstanceDetailJson,
  taskInstanceJson,
  tryJson,
} from './schemas.js';

const path = (name: string, example: string) => z.string().openapi({ param: { name, in: 'path' }, example });
const RunPath = z.object({ dagId: path('dagId', 'etl'), runId: path('runId', 'manual__2024-05-01T06:30:00.000Z') });
const TaskPath = RunPath.extend({ taskId: path('taskId', 'load') });
const MapIndexQuery = z.object({ mapIndex: int32(-1).default(-1).openapi({ description: 'Index of a mapped task instance; -1 when not mapped' }) });

const Selection = z.object({
  taskIds: z.array(z.string().min(1)).min(1).optional().openapi({ description: 'Tasks to act on; every task of the run when left out' }),
  downstream: z.boolean().default(false),
  upstream: z.boolean().default(false),
});
const ClearBody = Selection.extend({ onlyFailed: z.boolean().default(false) }).strict().openapi('ClearRequest');
const MarkBody = Selection.extend({ state: z.enum(['success', 'failed']), taskIds: z.array(z.string().min(1)).min(1) }).strict().openapi('MarkRequest');

const LogLine = z.object({ id: z.number().int(), tryNumber: z.number().int(), at: z.string(), level: z.string(), message: z.string() }).openapi('LogLine');
const Xcom = z
  .object({
    key: z.string(),
    value: z.unknown().openapi({ description: 'The value; an offloaded one is read back from the object store' }),
    sizeBytes: z.number().int(),
    createdAt: z.string(),
    storedAt: z
      .object({ bucket: z.string(), key: z.string() })
      .nullable()
      .openapi({ description: 'Where an offloaded value is in the object store (`xcomOffload`); null when it is in the database' }),
  })
  .openapi('XCom');

/** Runs and task instances: list, get, cancel, clear, mark, tries, logs, XCom. @internal */
export function registerRunRoutes(api: Api): void {
  const reader = requireRole('viewer');
  const operator = requireRole('operator');
  const runsPage = json(z.object({ runs: z.array(RunSchema), total: z.number().int() }), 'One page of runs, newest first');
  const runFilters = PageQuery.extend({ state: z.enum(RUN_STATES).optional() });

  api.openapi(
    createRoute({ method: 'get', path: '/runs', tags: ['runs'], summary: 'Runs of every DAG', middleware: [reader] as const, request: { query: runFilters.extend({ dagId: z.string().optional() }) }, responses: { 200: runsPage, ...ERROR_RESPONSES } }),
    async (c) => {
      const q = c.req.valid('query');
      const result = await listRuns(c.get('engine').db, q);
      return c.json({ runs: result.runs.map(runJson), total: result.total }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs', tags: ['runs'], summary: 'Runs of a DAG', middleware: [reader] as const, request: { params: z.object({ dagId: path('dagId', 'etl') }), query: runFilters }, responses: { 200: runsPage, ...ERROR_RESPONSES } }),
    async (c) => {
      const result = await listRuns(c.get('engine').db, { ...c.req.valid('query'), dagId: c.req.valid('param').dagId });
      return c.json({ runs: result.runs.map(runJson), total: result.total }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs/{runId}', tags: ['runs'], summary: 'A run', middleware: [reader] as const, request: { params: RunPath }, responses: { 200: json(RunSchema, 'The run'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { dagId, runId } = c.req.valid('param');
      return c.json(runJson(await getRunSummary(c.get('engine').db, dagId, runId)), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/dags/{dagId}/runs/{runId}/cancel',
      tags: ['runs'],
      summary: 'Stop a run: running tasks fail, the rest are skipped, the run fails',
      middleware: [operator] as const,
      request: { params: RunPath },
      responses: { 200: json(ChangedSchema, 'The task instances stopped'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId, runId } = c.req.valid('param');
      return c.json({ changed: await cancelRun(c.get('engine').context, dagId, runId, requestActor(c)) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/dags/{dagId}/runs/{runId}/clear',
      tags: ['task instances'],
      summary: 'Clear task instances so they run again (with downstream/upstream)',
      middleware: [operator] as const,
      request: { params: RunPath, body: { ...body(ClearBody), required: false } },
      responses: { 200: json(ChangedSchema, 'The task instances cleared'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId, runId } = c.req.valid('param');
      const input = ClearBody.parse(c.req.valid('json') ?? {});
      return c.json({ changed: await clearTaskInstances(c.get('engine').context, { dagId, runId, ...input }, requestActor(c)) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/dags/{dagId}/runs/{runId}/mark',
      tags: ['task instances'],
      summary: 'Mark task instances success or failed (with downstream/upstream)',
      middleware: [operator] as const,
      request: { params: RunPath, body: body(MarkBody) },
      responses: { 200: json(ChangedSchema, 'The task instances changed'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId, runId } = c.req.valid('param');
      const { state, ...selection } = c.req.valid('json');
      return c.json({ changed: await markTaskInstances(c.get('engine').context, { dagId, runId, ...selection }, state, requestActor(c)) }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs/{runId}/tasks', tags: ['task instances'], summary: 'Task instances of a run', middleware: [reader] as const, request: { params: RunPath }, responses: { 200: json(z.object({ taskInstances: z.array(TaskInstanceSchema) }), 'In task order'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { dagId, runId } = c.req.valid('param');
      const { db } = c.get('engine');
      const run = await getRunSummary(db, dagId, runId);
      return c.json({ taskInstances: (await listTaskInstances(db, run.pk)).map(taskInstanceJson) }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs/{runId}/tasks/{taskId}', tags: ['task instances'], summary: 'A task instance', middleware: [reader] as const, request: { params: TaskPath, query: MapIndexQuery }, responses: { 200: json(TaskInstanceDetailSchema, 'The task instance'), ...ERROR_RESPONSES } }),
    async (c) => c.json(taskInstanceDetailJson(await getTaskInstance(c.get('engine').db, { ...c.req.valid('param'), ...c.req.valid('query') })), 200),
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs/{runId}/tasks/{taskId}/tries', tags: ['task instances'], summary: 'Every try of a task instance', middleware: [reader] as const, request: { params: TaskPath, query: MapIndexQuery }, responses: { 200: json(z.object({ tries: z.array(TaskTrySchema) }), 'First try first'), ...ERROR_RESPONSES } }),
    async (c) => c.json({ tries: (await listTaskTries(c.get('engine').db, { ...c.req.valid('param'), ...c.req.valid('query') })).map(tryJson) }, 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/dags/{dagId}/runs/{runId}/tasks/{taskId}/logs',
      tags: ['task instances'],
      summary: 'Log lines of a task instance (tail with ?after=<last id>)',
      middleware: [reader] as const,
      request: {
        params: TaskPath,
        query: MapIndexQuery.extend({
          try: int32(1).optional().openapi({ description: 'One try; every try when left out' }),
          after: z.coerce.number().int().min(0).default(0).openapi({ description: 'Only lines after this id (the `next` of the previous page)' }),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        }),
      },
      responses: { 200: json(z.object({ lines: z.array(LogLine), next: z.number().int() }).openapi('LogPage'), 'Lines in order; pass `next` as `after` to continue'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const lines = await getTaskLogs(c.get('engine').db, { ...c.req.valid('param'), mapIndex: q.mapIndex, tryNumber: q.try, afterId: q.after, limit: q.limit });
      return c.json({ lines: lines.map((l) => ({ ...l, at: l.at.toISOString() })), next: lines.at(-1)?.id ?? q.after }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/dags/{dagId}/runs/{runId}/tasks/{taskId}/xcom', tags: ['task instances'], summary: 'The result and other XCom entries of a task instance', middleware: [reader] as const, request: { params: TaskPath, query: MapIndexQuery }, responses: { 200: json(z.object({ entries: z.array(Xcom) }), 'By key'), ...ERROR_RESPONSES } }),
    async (c) => {
      const engine = c.get('engine');
      const entries = await getTaskXcom(engine.db, { ...c.req.valid('param'), ...c.req.valid('query') }, { xcom: engine.context.xcom });
      return c.json({ entries: entries.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })) }, 200);
    },
  );
}
