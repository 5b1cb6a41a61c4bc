import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import type { ApiErrorBody } from '../errors.js';
import type { WebEnv } from '../types.js';

/** The REST API app type: OpenAPIHono over the web environment. */
export type Api = OpenAPIHono<WebEnv>;

/** Schema of {@link ApiErrorBody}. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NOT_FOUND' }),
      message: z.string().openapi({ example: "DAG 'etl' not found" }),
      field: z.string().optional().openapi({ example: 'params.county' }),
      issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const errorContent = { 'application/json': { schema: ErrorSchema } };

/** The error responses every authenticated route can give. */
export const ERROR_RESPONSES = {
  400: { description: 'Invalid input; `error.field` names the field', content: errorContent },
  401: { description: 'Not signed in, or the API token is invalid', content: errorContent },
  403: { description: 'The user’s role does not allow this, or the CSRF token is missing', content: errorContent },
  404: { description: 'Not found', content: errorContent },
  409: { description: 'Conflicts with the current state (already exists, run finished)', content: errorContent },
} as const;

/** A 200 (or other) JSON response of `schema`. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON request body of `schema`. */
export function body<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true };
}

/** Turn zod validation failures into `{ error: { code: 'INVALID_INPUT', message, field, issues } }`. */
export const validationHook: Hook<unknown, WebEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : result.target,
    message: issue.message,
  }));
  const first = issues[0]!;
  const body: ApiErrorBody = {
    error: { code: 'INVALID_INPUT', message: `${first.field}: ${first.message}`, field: first.field, issues },
  };
  return c.json(body, 400);
};

/** ISO timestamp or null. */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** Largest value of the 32-bit integer columns (versions, map indexes, try numbers). */
export const MAX_INT32 = 2_147_483_647;

/**
 * An integer query or path parameter compared with a 32-bit integer column: a larger one is invalid
 * input naming the parameter, not a database error.
 */
export function int32(min: number) {
  return z.coerce.number().int().min(min).max(MAX_INT32);
}

/** `limit`/`offset` query parameters shared by list routes. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ example: 100 }),
  offset: z.coerce.number().int().min(0).default(0).openapi({ example: 0 }),
});
