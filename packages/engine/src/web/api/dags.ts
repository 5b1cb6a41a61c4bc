import { createRoute, z } from '@hono/zod-openapi';
import { pauseDag } from '../../service/actions.js';
import { getDag, getDagSource, listDagVersions } from '../../service/dag-details.js';
import { searchDags } from '../../service/dags.js';
import { getRunSummary } from '../../service/run-queries.js';
import { triggerDag } from '../../service/runs.js';
import { requestActor, requireRole } from '../auth/middleware.js';
import { body, ERROR_RESPONSES, int32, json, PageQuery, type Api } from './common.js';
import { DagDetailSchema, DagSchema, DagVersionSchema, RunSchema, dagDetailJson, dagJson, runJson, versionJson } from './schemas.js';

const DagPath = z.object({ dagId: z.string().openapi({ param: { name: 'dagId', in: 'path' }, example: 'etl' }) });

const booleanQuery = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

const TriggerBody = z
  .object({
    params: z.record(z.string(), z.unknown()).optional().openapi({ description: "Run params, validated against the DAG's params schema", example: { county: 'King' } }),
    runId: z.string().min(1).max(250).optional(),
    logicalDate: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Defaults to now' }),
  })
  .strict()
  .openapi('TriggerRequest');

/** DAG routes: list, get, pause/unpause, trigger, code, versions. @internal */
export function registerDagRoutes(api: Api): void {
  const reader = requireRole('viewer');
  const operator = requireRole('operator');

  api.openapi(
    createRoute({
      method: 'get',
      path: '/dags',
      tags: ['dags'],
      summary: 'List DAGs',
      middleware: [reader] as const,
      request: {
        query: PageQuery.extend({
          search: z.string().optional().openapi({ description: 'Substring of the DAG id or description' }),
          tags: z.string().optional().openapi({ description: 'Comma-separated tags; DAGs carrying all of them' }),
          paused: booleanQuery,
          includeInactive: booleanQuery,
        }),
      },
      responses: { 200: json(z.object({ dags: z.array(DagSchema), total: z.number().int() }), 'One page of DAGs and the total that match'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tags = q.tags?.split(',').map((t) => t.trim()).filter(Boolean);
      const result = await searchDags(c.get('engine').db, { search: q.search, tags, paused: q.paused, includeInactive: q.includeInactive, limit: q.limit, offset: q.offset });
      return c.json({ dags: result.dags.map(dagJson), total: result.total }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/dags/{dagId}',
      tags: ['dags'],
      summary: 'A DAG with its latest definition',
      middleware: [reader] as const,
      request: { params: DagPath },
      responses: { 200: json(DagDetailSchema, 'The DAG'), ...ERROR_RESPONSES },
    }),
    async (c) => c.json(dagDetailJson(await getDag(c.get('engine').db, c.req.valid('param').dagId)), 200),
  );

  api.openapi(
    createRoute({
      method: 'patch',
      path: '/dags/{dagId}',
      tags: ['dags'],
      summary: 'Pause or unpause a DAG',
      middleware: [operator] as const,
      request: { params: DagPath, body: body(z.object({ isPaused: z.boolean() }).strict().openapi('DagPatch')) },
      responses: { 200: json(DagDetailSchema, 'The DAG after the change'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId } = c.req.valid('param');
      const engine = c.get('engine');
      await pauseDag(engine.context, dagId, c.req.valid('json').isPaused, requestActor(c));
      return c.json(dagDetailJson(await getDag(engine.db, dagId)), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/dags/{dagId}/runs',
      tags: ['runs'],
      summary: 'Trigger a run',
      description: 'Params are validated against the DAG’s schema; on failure nothing is created and `error.field` names the param (`params.county`).',
      middleware: [operator] as const,
      request: { params: DagPath, body: { ...body(TriggerBody), required: false } },
      responses: { 201: json(RunSchema, 'The run created'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const { dagId } = c.req.valid('param');
      const input = c.req.valid('json');
      const engine = c.get('engine');
      const actor = requestActor(c);
      const run = await triggerDag(engine.context, dagId, {
        params: input.params,
        runId: input.runId,
        logicalDate: input.logicalDate ? new Date(input.logicalDate) : undefined,
        triggeredBy: actor.name,
        actor,
      });
      return c.json(runJson(await getRunSummary(engine.db, dagId, run.run_id)), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/dags/{dagId}/code',
      tags: ['dags'],
      summary: 'Source of the DAG file (latest version, or ?version=n)',
      middleware: [reader] as const,
      request: { params: DagPath, query: z.object({ version: int32(1).optional() }) },
      responses: {
        200: json(z.object({ versionNumber: z.number().int(), file: z.string().nullable(), source: z.string().nullable() }).openapi('DagCode'), 'The source'),
        ...ERROR_RESPONSES,
      },
    }),
    async (c) => c.json(await getDagSource(c.get('engine').db, c.req.valid('param').dagId, c.req.valid('query').version), 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/dags/{dagId}/versions',
      tags: ['dags'],
      summary: 'Every version of a DAG, newest first',
      middleware: [reader] as const,
      request: { params: DagPath },
      responses: { 200: json(z.object({ versions: z.array(DagVersionSchema) }), 'The versions'), ...ERROR_RESPONSES },
    }),
    async (c) => c.json({ versions: (await listDagVersions(c.get('engine').db, c.req.valid('param').dagId)).map(versionJson) }, 200),
  );
}
