import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import stringify from 'safe-stable-stringify';
import { ParamsValidationError } from '../errors.js';
import type { ParamsSchema } from './types.js';

// ajv-formats is CommonJS; under ESM interop its function may arrive as `default.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false, strictRequired: false });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();

/**
 * Compile a params schema, or throw an `Error` saying why it is not a valid JSON Schema for params.
 * @internal
 */
export function compileParamsSchema(schema: ParamsSchema): ValidateFunction {
  const key = stringify(schema) ?? 'null';
  const cached = compiled.get(key);
  if (cached) return cached;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error('params schema must be a JSON Schema object');
  }
  if (schema.type !== undefined && schema.type !== 'object') {
    throw new Error(`params schema must have type 'object', got ${JSON.stringify(schema.type)}`);
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile({ type: 'object', ...schema });
  } catch (error) {
    throw new Error(`invalid params schema: ${(error as Error).message}`);
  }
  compiled.set(key, validate);
  return validate;
}

function formatIssue(error: ErrorObject): { path: string; message: string } {
  const base = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { path: base ? `${base}.${missing}` : missing, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { path: base ? `${base}.${extra}` : extra, message: 'is not an allowed parameter' };
  }
  return { path: base, message: error.message ?? 'is invalid' };
}

/**
 * Validate run params against a DAG's schema and return them with defaults applied.
 * Throws {@link ParamsValidationError} naming every invalid parameter.
 */
export function validateParams(dagId: string, schema: ParamsSchema | null, input: unknown): Record<string, unknown> {
  const value: unknown = input === undefined || input === null ? {} : structuredClone(input);
  if (typeof value !== 'object' || Array.isArray(value) || value === null) {
    throw new ParamsValidationError(dagId, [{ path: '', message: `must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}` }]);
  }
  if (schema === null) return value as Record<string, unknown>;
  const validate = compileParamsSchema(schema);
  if (!validate(value)) {
    throw new ParamsValidationError(dagId, (validate.errors ?? []).map(formatIssue));
  }
  return value as Record<string, unknown>;
}
