import { createRoute, z } from '@hono/zod-openapi';
import { listAuditLog } from '../../service/audit.js';
import { countImportErrors, listImportErrors } from '../../service/dags.js';
import { countApiTokens, createApiToken, listApiTokens, revokeApiToken, type ApiTokenSummary } from '../../service/tokens.js';
import { USER_ROLES, checkOwnAccountChange, countUsers, createUser, deleteUser, getUser, listUsers, updateUser, hasRole, type UserSummary } from '../../service/users.js';
import { requestActor, requireRole } from '../auth/middleware.js';
import { WebError } from '../errors.js';
import { body, ERROR_RESPONSES, iso, json, PageQuery, type Api } from './common.js';

const Role = z.enum(USER_ROLES as ['viewer', 'operator', 'admin']);
const UserSchema = z
  .object({ username: z.string(), role: Role, disabled: z.boolean(), createdAt: z.string(), lastLoginAt: z.string().nullable() })
  .openapi('User');
const UserCreate = z.object({ username: z.string().min(1), role: Role, password: z.string().min(1) }).strict().openapi('UserCreate');
const UserPatch = z.object({ role: Role.optional(), password: z.string().min(1).optional(), disabled: z.boolean().optional() }).strict().openapi('UserPatch');
const UserPath = z.object({ username: z.string().openapi({ param: { name: 'username', in: 'path' }, example: 'ana' }) });

const TokenSchema = z
  .object({ id: z.number().int(), username: z.string(), name: z.string(), prefix: z.string(), createdAt: z.string(), expiresAt: z.string().nullable(), lastUsedAt: z.string().nullable() })
  .openapi('ApiToken');
const TokenCreate = z
  .object({
    name: z.string().min(1).openapi({ example: 'ci deploys' }),
    username: z.string().optional().openapi({ description: 'Admins only: create the token for this user' }),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .openapi('ApiTokenCreate');

const AuditSchema = z
  .object({
    id: z.number().int(), at: z.string(), actor: z.string(), origin: z.string(), action: z.string(),
    dagId: z.string().nullable(), runId: z.string().nullable(), taskId: z.string().nullable(), object: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEntry');

const userJson = (u: UserSummary) => ({ username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt.toISOString(), lastLoginAt: iso(u.lastLoginAt) });
const tokenJson = (t: ApiTokenSummary) => ({ ...t, createdAt: t.createdAt.toISOString(), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt) });

/** Users (admins), API tokens (one's own; admins all), the audit log and import errors. @internal */
export function registerAdminRoutes(api: Api): void {
  const reader = requireRole('viewer');
  const admin = requireRole('admin');

  api.openapi(
    createRoute({ method: 'get', path: '/users', tags: ['users'], summary: 'Users', middleware: [admin] as const, request: { query: PageQuery }, responses: { 200: json(z.object({ users: z.array(UserSchema), total: z.number().int() }), 'One page, by name'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { db } = c.get('engine');
      const [users, total] = await Promise.all([listUsers(db, c.req.valid('query')), countUsers(db)]);
      return c.json({ users: users.map(userJson), total }, 200);
    },
  );
  api.openapi(
    createRoute({ method: 'post', path: '/users', tags: ['users'], summary: 'Create a user', middleware: [admin] as const, request: { body: body(UserCreate) }, responses: { 201: json(UserSchema, 'Created'), ...ERROR_RESPONSES } }),
    async (c) => c.json(userJson(await createUser(c.get('engine').db, c.req.valid('json'), requestActor(c))), 201),
  );
  api.openapi(
    createRoute({ method: 'get', path: '/users/{username}', tags: ['users'], summary: 'A user', middleware: [admin] as const, request: { params: UserPath }, responses: { 200: json(UserSchema, 'The user'), ...ERROR_RESPONSES } }),
    async (c) => c.json(userJson(await getUser(c.get('engine').db, c.req.valid('param').username)), 200),
  );
  api.openapi(
    createRoute({ method: 'patch', path: '/users/{username}', tags: ['users'], summary: 'Change role, password or disabled (ends their sessions on password change or disable)', middleware: [admin] as const, request: { params: UserPath, body: body(UserPatch) }, responses: { 200: json(UserSchema, 'The user after the change'), ...ERROR_RESPONSES } }),
    async (c) => {
      const { username } = c.req.valid('param');
      const changes = c.req.valid('json');
      checkOwnAccountChange(c.get('user')!.username, username, changes);
      return c.json(userJson(await updateUser(c.get('engine').db, username, changes, requestActor(c))), 200);
    },
  );
  api.openapi(
    createRoute({ method: 'delete', path: '/users/{username}', tags: ['users'], summary: 'Delete a user with their sessions and tokens', middleware: [admin] as const, request: { params: UserPath }, responses: { 204: { description: 'Deleted' }, ...ERROR_RESPONSES } }),
    async (c) => {
      const { username } = c.req.valid('param');
      checkOwnAccountChange(c.get('user')!.username, username, 'delete');
      await deleteUser(c.get('engine').db, username, requestActor(c));
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/tokens',
      tags: ['tokens'],
      summary: "The caller's API tokens (admins: ?all=true for everyone's)",
      middleware: [reader] as const,
      request: { query: PageQuery.extend({ all: z.enum(['true', 'false']).optional() }) },
      responses: { 200: json(z.object({ tokens: z.array(TokenSchema), total: z.number().int() }), 'One page of tokens, oldest first (never their secret)'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const user = c.get('user')!;
      const { all, limit, offset } = c.req.valid('query');
      if (all === 'true' && !hasRole(user.role, 'admin')) throw new WebError(403, 'FORBIDDEN', 'only admins can list every token', 'all');
      const username = all === 'true' ? undefined : user.username;
      const { db } = c.get('engine');
      const [tokens, total] = await Promise.all([listApiTokens(db, { username, limit, offset }), countApiTokens(db, username)]);
      return c.json({ tokens: tokens.map(tokenJson), total }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/tokens',
      tags: ['tokens'],
      summary: 'Create an API token (the token is in this response only)',
      middleware: [reader] as const,
      request: { body: body(TokenCreate) },
      responses: { 201: json(TokenSchema.extend({ token: z.string().openapi({ example: 'trb_…' }) }).openapi('ApiTokenCreated'), 'Created; keep `token`, it is not shown again'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const user = c.get('user')!;
      const input = c.req.valid('json');
      const username = input.username ?? user.username;
      if (username !== user.username && !hasRole(user.role, 'admin')) throw new WebError(403, 'FORBIDDEN', 'only admins can create tokens for other users', 'username');
      const created = await createApiToken(c.get('engine').db, { username, name: input.name, expiresAt: input.expiresAt ? new Date(input.expiresAt) : null }, requestActor(c));
      return c.json({ ...tokenJson(created.summary), token: created.token }, 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/tokens/{id}',
      tags: ['tokens'],
      summary: 'Revoke an API token (your own; admins any)',
      middleware: [reader] as const,
      request: { params: z.object({ id: z.coerce.number().int().openapi({ param: { name: 'id', in: 'path' }, example: 3 }) }) },
      responses: { 204: { description: 'Revoked' }, ...ERROR_RESPONSES },
    }),
    async (c) => {
      const user = c.get('user')!;
      await revokeApiToken(c.get('engine').db, c.req.valid('param').id, requestActor(c), hasRole(user.role, 'admin') ? undefined : user.username);
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/audit-log',
      tags: ['audit'],
      summary: 'Who did what, to which object, when and from where (newest first)',
      middleware: [reader] as const,
      request: { query: PageQuery.extend({ actor: z.string().optional(), action: z.string().optional(), dagId: z.string().optional(), since: z.iso.datetime({ offset: true }).optional() }) },
      responses: { 200: json(z.object({ entries: z.array(AuditSchema) }), 'One page'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const entries = await listAuditLog(c.get('engine').db, { ...q, since: q.since ? new Date(q.since) : undefined });
      return c.json({ entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/import-errors',
      tags: ['dags'],
      summary: 'DAG files that failed to load',
      middleware: [reader] as const,
      request: { query: PageQuery },
      responses: {
        200: json(z.object({ importErrors: z.array(z.object({ file: z.string(), message: z.string(), occurredAt: z.string() }).openapi('ImportError')), total: z.number().int() }), 'One page, by file'),
        ...ERROR_RESPONSES,
      },
    }),
    async (c) => {
      const { db } = c.get('engine');
      const [errors, total] = await Promise.all([listImportErrors(db, c.req.valid('query')), countImportErrors(db)]);
      return c.json({ importErrors: errors.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString() })), total }, 200);
    },
  );
}
