import { createRoute, z } from '@hono/zod-openapi';
import type { BackfillState } from '../../db/schema.js';
import { BACKFILL_REPROCESS } from '../../schedule/backfill.js';
import { cancelBackfill, countBackfills, createBackfill, getBackfill, listBackfills, type BackfillSummary, type PlannedBackfillRun } from '../../service/backfill.js';
import { requestActor, requireRole } from '../auth/middleware.js';
import { body, ERROR_RESPONSES, iso, json, PageQuery, type Api } from './common.js';

const Timestamp = z.string().openapi({ format: 'date-time', example: '2024-05-01T00:00:00.000Z' });
const Reprocess = z.enum(BACKFILL_REPROCESS);
const BACKFILL_STATES = ['running', 'completed', 'cancelled'] as const satisfies readonly BackfillState[];

const BackfillSchema = z
  .object({
    id: z.number().int(),
    dagId: z.string(),
    from: Timestamp,
    to: Timestamp,
    reprocess: Reprocess,
    maxActiveRuns: z.number().int(),
    runBackwards: z.boolean(),
    state: z.enum(BACKFILL_STATES),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    completedAt: Timestamp.nullable(),
    outcomes: z.record(z.string(), z.number().int()).openapi({ description: 'Intervals by outcome so far: pending, created, cleared, exists, in_flight, cancelled' }),
    activeRuns: z.number().int().openapi({ description: 'Its runs queued or running now' }),
  })
  .openapi('Backfill');

const PlannedRunSchema = z
  .object({
    logicalDate: Timestamp,
    dataIntervalStart: Timestamp,
    dataIntervalEnd: Timestamp,
    action: z.enum(['create', 'clear', 'exists', 'in_flight']).openapi({ description: 'create a run, clear an existing one to run it again, keep it (exists), or leave it running (in_flight)' }),
    existing: z.object({ runId: z.string(), state: z.string() }).nullable(),
  })
  .openapi('PlannedBackfillRun');

const BackfillCreate = z
  .object({
    dagId: z.string().min(1).openapi({ example: 'etl' }),
    from: z.string().min(1).openapi({ description: 'First logical date (ISO 8601; without an offset, in the DAG time zone)', example: '2024-01-01' }),
    to: z.string().min(1).openapi({ description: 'Last logical date, inclusive', example: '2024-01-31' }),
    reprocess: Reprocess.default('none').openapi({ description: 'Existing runs to run again' }),
    maxActiveRuns: z.number().int().min(1).optional().openapi({ description: "Runs of the backfill running at once (default: the DAG's maxActiveRuns)" }),
    runBackwards: z.boolean().default(false),
    params: z.record(z.string(), z.unknown()).optional().openapi({ description: "Params of every run, validated against the DAG's schema" }),
    dryRun: z.boolean().default(false).openapi({ description: 'Only compute the plan; create nothing' }),
  })
  .strict()
  .openapi('BackfillCreate');

const BackfillCreated = z
  .object({
    backfill: BackfillSchema.nullable().openapi({ description: 'null for a dry run' }),
    plan: z.array(PlannedRunSchema),
    dagPaused: z.boolean().openapi({ description: 'The DAG is paused: its backfill runs wait until it is unpaused' }),
  })
  .openapi('BackfillCreation');

const BackfillPath = z.object({ id: z.coerce.number().int().min(1).openapi({ param: { name: 'id', in: 'path' }, example: 3 }) });

function backfillJson(b: BackfillSummary): z.infer<typeof BackfillSchema> {
  return { ...b, from: b.from.toISOString(), to: b.to.toISOString(), createdAt: b.createdAt.toISOString(), completedAt: iso(b.completedAt) };
}

function plannedJson(p: PlannedBackfillRun): z.infer<typeof PlannedRunSchema> {
  return {
    logicalDate: p.logicalDate.toISOString(),
    dataIntervalStart: p.dataInterval.start.toISOString(),
    dataIntervalEnd: p.dataInterval.end.toISOString(),
    action: p.action,
    existing: p.existing ? { runId: p.existing.runId, state: String(p.existing.state) } : null,
  };
}

/**
 * Backfills: list, get, create (or plan, with `dryRun`) and cancel, through the same service
 * functions as `tributary backfill` and the pages. Acting needs operator.
 * @internal
 */
export function registerBackfillRoutes(api: Api): void {
  const reader = requireRole('viewer');
  const operator = requireRole('operator');

  api.openapi(
    createRoute({
      method: 'get',
      path: '/backfills',
      tags: ['backfills'],
      summary: 'Backfills, newest first, with their progress',
      middleware: [reader] as const,
      request: {
        query: PageQuery.extend({
          dagId: z.string().optional().openapi({ description: 'Only backfills of this DAG' }),
          running: z.enum(['true', 'false']).optional().openapi({ description: 'Only running backfills' }),
        }),
      },
      responses: { 200: json(z.object({ backfills: z.array(BackfillSchema), total: z.number().int() }), 'One page, newest first'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId, running, limit, offset } = c.req.valid('query');
      const filter = { dagId, runningOnly: running === 'true' };
      const { db } = c.get('engine');
      const [backfills, total] = await Promise.all([listBackfills(db, { ...filter, limit, offset }), countBackfills(db, filter)]);
      return c.json({ backfills: backfills.map(backfillJson), total }, 200);
    },
  );

  api.openapi(
    createRoute({ method: 'get', path: '/backfills/{id}', tags: ['backfills'], summary: 'A backfill and how far it got', middleware: [reader] as const, request: { params: BackfillPath }, responses: { 200: json(BackfillSchema, 'The backfill'), ...ERROR_RESPONSES } }),
    async (c) => c.json(backfillJson(await getBackfill(c.get('engine').db, c.req.valid('param').id)), 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/backfills',
      tags: ['backfills'],
      summary: 'Plan a backfill and, unless dryRun, create it (the scheduler carries it out)',
      description:
        'Every interval of the DAG schedule whose logical date is in [from, to] gets a run, or has its existing run cleared per `reprocess`. ' +
        'A DAG has at most one running backfill (409). Invalid params: 400 `PARAMS_INVALID` with `field: "params.<name>"`; nothing is created.',
      middleware: [operator] as const,
      request: { body: body(BackfillCreate) },
      responses: { 200: json(BackfillCreated, 'Dry run: the plan; nothing was created'), 201: json(BackfillCreated, 'Created, with its plan'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const result = await createBackfill(c.get('engine').context, input, requestActor(c));
      const response = { backfill: result.backfill ? backfillJson(result.backfill) : null, plan: result.plan.map(plannedJson), dagPaused: result.dagPaused };
      return result.backfill ? c.json(response, 201) : c.json(response, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/backfills/{id}/cancel',
      tags: ['backfills'],
      summary: 'Cancel a running backfill: no more runs are created, runs not started fail, running ones finish',
      middleware: [operator] as const,
      request: { params: BackfillPath },
      responses: { 200: json(BackfillSchema, 'The backfill after cancelling'), ...ERROR_RESPONSES },
    }),
    async (c) => c.json(backfillJson(await cancelBackfill(c.get('engine').context, c.req.valid('param').id, requestActor(c))), 200),
  );
}
