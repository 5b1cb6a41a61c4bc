import { createRoute, z } from '@hono/zod-openapi';
import { countConnections, createConnection, deleteConnection, getConnection, listConnections, updateConnection, type ConnectionSummary } from '../../service/connections.js';
import { countPools, createPool, deletePool, getPool, listPools, updatePool } from '../../service/pools.js';
import { countVariables, createVariable, deleteVariable, getVariable, listVariables, setVariable, type VariableSummary } from '../../service/variables.js';
import { requestActor, requireRole } from '../auth/middleware.js';
import { body, ERROR_RESPONSES, json, PageQuery, type Api } from './common.js';

const PoolSchema = z
  .object({
    name: z.string().openapi({ example: 'scraping' }),
    slots: z.number().int().openapi({ description: '-1 for unlimited' }),
    description: z.string().nullable(),
    openSlots: z.number().int(),
    queuedSlots: z.number().int(),
    runningSlots: z.number().int(),
    scheduledSlots: z.number().int(),
  })
  .openapi('Pool');
const PoolCreate = z.object({ name: z.string().min(1), slots: z.number().int().min(-1), description: z.string().nullable().optional() }).strict().openapi('PoolCreate');
const PoolPatch = z.object({ slots: z.number().int().min(-1).optional(), description: z.string().nullable().optional() }).strict().openapi('PoolPatch');

const VariableSchema = z
  .object({ key: z.string(), value: z.string().openapi({ description: '`***` when the key looks secret' }), description: z.string().nullable(), masked: z.boolean(), updatedAt: z.string() })
  .openapi('Variable');
const VariablePut = z.object({ value: z.string(), description: z.string().nullable().optional() }).strict().openapi('VariablePut');
const VariableCreate = VariablePut.extend({ key: z.string().min(1) }).strict().openapi('VariableCreate');

const ConnectionFieldsSchema = z.object({
  connType: z.string().min(1).openapi({ example: 'postgres' }),
  description: z.string().nullable().optional(),
  host: z.string().nullable().optional(),
  port: z.number().int().min(1).max(65535).nullable().optional(),
  schema: z.string().nullable().optional(),
  login: z.string().nullable().optional(),
  password: z.string().nullable().optional().openapi({ description: 'Write-only: reads show `***`' }),
  extra: z.record(z.string(), z.unknown()).optional(),
});
const ConnectionSchema = ConnectionFieldsSchema.required()
  .extend({ connId: z.string(), password: z.string().nullable(), updatedAt: z.string() })
  .openapi('Connection');
const ConnectionCreate = ConnectionFieldsSchema.extend({ connId: z.string().min(1) }).strict().openapi('ConnectionCreate');
const ConnectionPatch = ConnectionFieldsSchema.partial().strict().openapi('ConnectionPatch');

const PoolPath = z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'scraping' }) });
const VariablePath = z.object({ key: z.string().openapi({ param: { name: 'key', in: 'path' }, example: 'county_list' }) });
const ConnectionPath = z.object({ connId: z.string().openapi({ param: { name: 'connId', in: 'path' }, example: 'warehouse' }) });

const variableJson = (v: VariableSummary) => ({ ...v, updatedAt: v.updatedAt.toISOString() });
const connectionJson = (c: ConnectionSummary) => ({ ...c, updatedAt: c.updatedAt.toISOString() });
const deleted = { 204: { description: 'Deleted' }, ...ERROR_RESPONSES };

/** Pools, variables and connections: read by viewers, managed by admins. @internal */
export function registerResourceRoutes(api: Api): void {
  const reader = requireRole('viewer');
  const admin = requireRole('admin');

  // Pools
  api.openapi(
    createRoute({ method: 'get', path: '/pools', tags: ['pools'], summary: 'Pools with open, queued, running and scheduled slots', middleware: [reader] as const, request: { query: PageQuery }, responses: { 200: json(z.object({ pools: z.array(PoolSchema), total: z.number().int() }), 'One page, by name'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { db } = c.get('engine');
      const [pools, total] = await Promise.all([listPools(db, c.req.valid('query')), countPools(db)]);
      return c.json({ pools, total }, 200);
    },
  );
  api.openapi(
    createRoute({ method: 'post', path: '/pools', tags: ['pools'], summary: 'Create a pool', middleware: [admin] as const, request: { body: body(PoolCreate) }, responses: { 201: json(PoolSchema, 'Created'), ...ERROR_RESPONSES } }),
    async (c) => c.json(await createPool(c.get('engine').context, c.req.valid('json'), requestActor(c)), 201),
  );
  api.openapi(
    createRoute({ method: 'get', path: '/pools/{name}', tags: ['pools'], summary: 'A pool', middleware: [reader] as const, request: { params: PoolPath }, responses: { 200: json(PoolSchema, 'The pool'), ...ERROR_RESPONSES } }),
    async (c) => c.json(await getPool(c.get('engine').db, c.req.valid('param').name), 200),
  );
  api.openapi(
    createRoute({ method: 'patch', path: '/pools/{name}', tags: ['pools'], summary: 'Change slots or description', middleware: [admin] as const, request: { params: PoolPath, body: body(PoolPatch) }, responses: { 200: json(PoolSchema, 'The pool after the change'), ...ERROR_RESPONSES } }),
    async (c) => c.json(await updatePool(c.get('engine').context, c.req.valid('param').name, c.req.valid('json'), requestActor(c)), 200),
  );
  api.openapi(
    createRoute({ method: 'delete', path: '/pools/{name}', tags: ['pools'], summary: 'Delete a pool (not default_pool)', middleware: [admin] as const, request: { params: PoolPath }, responses: deleted }),
    async (c) => {
      await deletePool(c.get('engine').db, c.req.valid('param').name, requestActor(c));
      return c.body(null, 204);
    },
  );

  // Variables
  api.openapi(
    createRoute({ method: 'get', path: '/variables', tags: ['variables'], summary: 'Variables (values of secret-looking keys masked)', middleware: [reader] as const, request: { query: PageQuery }, responses: { 200: json(z.object({ variables: z.array(VariableSchema), total: z.number().int() }), 'One page, by key'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { db } = c.get('engine');
      const [variables, total] = await Promise.all([listVariables(db, c.req.valid('query')), countVariables(db)]);
      return c.json({ variables: variables.map(variableJson), total }, 200);
    },
  );
  api.openapi(
    createRoute({ method: 'post', path: '/variables', tags: ['variables'], summary: 'Create a variable', middleware: [admin] as const, request: { body: body(VariableCreate) }, responses: { 201: json(VariableSchema, 'Created'), ...ERROR_RESPONSES } }),
    async (c) => c.json(variableJson(await createVariable(c.get('engine').db, c.req.valid('json'), requestActor(c))), 201),
  );
  api.openapi(
    createRoute({ method: 'get', path: '/variables/{key}', tags: ['variables'], summary: 'A variable', middleware: [reader] as const, request: { params: VariablePath }, responses: { 200: json(VariableSchema, 'The variable'), ...ERROR_RESPONSES } }),
    async (c) => c.json(variableJson(await getVariable(c.get('engine').db, c.req.valid('param').key)), 200),
  );
  api.openapi(
    createRoute({ method: 'put', path: '/variables/{key}', tags: ['variables'], summary: 'Create or replace a variable', middleware: [admin] as const, request: { params: VariablePath, body: body(VariablePut) }, responses: { 200: json(VariableSchema, 'Replaced'), 201: json(VariableSchema, 'Created'), ...ERROR_RESPONSES } }),
    async (c) => {
      const result = await setVariable(c.get('engine').db, { key: c.req.valid('param').key, ...c.req.valid('json') }, requestActor(c));
      return c.json(variableJson(result.variable), result.created ? 201 : 200);
    },
  );
  api.openapi(
    createRoute({ method: 'delete', path: '/variables/{key}', tags: ['variables'], summary: 'Delete a variable', middleware: [admin] as const, request: { params: VariablePath }, responses: deleted }),
    async (c) => {
      await deleteVariable(c.get('engine').db, c.req.valid('param').key, requestActor(c));
      return c.body(null, 204);
    },
  );

  // Connections
  api.openapi(
    createRoute({ method: 'get', path: '/connections', tags: ['connections'], summary: 'Connections (passwords and secret extras masked)', middleware: [reader] as const, request: { query: PageQuery }, responses: { 200: json(z.object({ connections: z.array(ConnectionSchema), total: z.number().int() }), 'One page, by id'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { db } = c.get('engine');
      const [connections, total] = await Promise.all([listConnections(db, c.req.valid('query')), countConnections(db)]);
      return c.json({ connections: connections.map(connectionJson), total }, 200);
    },
  );
  api.openapi(
    createRoute({ method: 'post', path: '/connections', tags: ['connections'], summary: 'Create a connection', middleware: [admin] as const, request: { body: body(ConnectionCreate) }, responses: { 201: json(ConnectionSchema, 'Created (masked)'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { connId, ...fields } = c.req.valid('json');
      return c.json(connectionJson(await createConnection(c.get('engine').db, connId, fields, requestActor(c))), 201);
    },
  );
  api.openapi(
    createRoute({ method: 'get', path: '/connections/{connId}', tags: ['connections'], summary: 'A connection (masked)', middleware: [reader] as const, request: { params: ConnectionPath }, responses: { 200: json(ConnectionSchema, 'The connection'), ...ERROR_RESPONSES } }),
    async (c) => c.json(connectionJson(await getConnection(c.get('engine').db, c.req.valid('param').connId)), 200),
  );
  api.openapi(
    createRoute({
      method: 'patch',
      path: '/connections/{connId}',
      tags: ['connections'],
      summary: 'Change fields of a connection',
      description: 'A password left out or sent back as `***` is kept; `null` removes it.',
      middleware: [admin] as const,
      request: { params: ConnectionPath, body: body(ConnectionPatch) },
      responses: { 200: json(ConnectionSchema, 'The connection after the change (masked)'), ...ERROR_RESPONSES },
    }),
    async (c) => c.json(connectionJson(await updateConnection(c.get('engine').db, c.req.valid('param').connId, c.req.valid('json'), requestActor(c))), 200),
  );
  api.openapi(
    createRoute({ method: 'delete', path: '/connections/{connId}', tags: ['connections'], summary: 'Delete a connection', middleware: [admin] as const, request: { params: ConnectionPath }, responses: deleted }),
    async (c) => {
      await deleteConnection(c.get('engine').db, c.req.valid('param').connId, requestActor(c));
      return c.body(null, 204);
    },
  );
}
