import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ParamsValidationError, TributaryError } from '../errors.js';

/** The JSON body of every API error. */
export interface ApiErrorBody {
  error: {
    /** Stable machine-readable code: `NOT_FOUND`, `PARAMS_INVALID`, `FORBIDDEN`, … */
    code: string;
    message: string;
    /** The request field at fault, when there is one (`params.county`, `slots`). */
    field?: string;
    /** Every problem, when there are several. */
    issues?: { field: string; message: string }[];
  };
}

/** An error with an HTTP status that routes throw; rendered as {@link ApiErrorBody} by the API. */
export class WebError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: ContentfulStatusCode, code: string, message: string, field?: string) {
    super(message);
    this.name = 'WebError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_STATE: 409,
  RUN_EXISTS: 409,
  PARAMS_INVALID: 400,
  INVALID_INPUT: 400,
  CONFIG_INVALID: 400,
};

/** The HTTP status and JSON body for anything a route threw. @internal */
export function describeWebError(error: unknown): { status: ContentfulStatusCode; body: ApiErrorBody } {
  if (error instanceof WebError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } } };
  }
  if (error instanceof ParamsValidationError) {
    const issues = error.issues.map((i) => ({ field: i.path ? `params.${i.path}` : 'params', message: i.message }));
    return { status: 400, body: { error: { code: error.code, message: error.message, field: issues[0]?.field ?? 'params', issues } } };
  }
  if (error instanceof TributaryError) {
    const status = STATUS_BY_CODE[error.code] ?? (error.code.endsWith('_INVALID') ? 400 : 500);
    const field = error.location.field;
    return { status, body: { error: { code: error.code, message: error.message, ...(field ? { field } : {}) } } };
  }
  if (error instanceof HTTPException) {
    const codes: Record<number, string> = { 400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };
    const code = codes[error.status] ?? 'HTTP_ERROR';
    return { status: error.status as ContentfulStatusCode, body: { error: { code, message: error.message || 'request failed' } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } } };
}

/** Respond with an API error body. @internal */
export function apiError(c: Context, status: ContentfulStatusCode, code: string, message: string, field?: string): Response {
  const body: ApiErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return c.json(body, status);
}
