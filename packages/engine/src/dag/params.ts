import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import traverse from 'json-schema-traverse';
import stringify from 'safe-stable-stringify';
import { ParamsValidationError } from '../errors.js';
import type { ParamsSchema } from './types.js';

// ajv-formats is CommonJS; under ESM interop its function may arrive as `default.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const newAjv = (): Ajv => {
  // addUsedSchema off: a schema's `$id` is not registered, so two DAGs may use the same one.
  const instance = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false, strictRequired: false, addUsedSchema: false });
  addFormats(instance);
  return instance;
};
const ajv = newAjv();
const compiled = new Map<string, ValidateFunction>();
/** Compiles schema shapes only (its own instance, so a shape and its schema may share an `$id`). */
const shapeAjv = newAjv();
/** Verdicts on schema shapes: null when valid, else why not. */
const shapeVerdicts = new Map<string, string | null>();

function checkSchemaObject(schema: ParamsSchema): asserts schema is Exclude<ParamsSchema, boolean> {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error('params schema must be a JSON Schema object');
  }
  if (schema.type !== undefined && schema.type !== 'object') {
    throw new Error(`params schema must have type 'object', got ${JSON.stringify(schema.type)}`);
  }
}

/**
 * Compile a params schema, or throw an `Error` saying why it is not a valid JSON Schema for params.
 * @internal
 */
export function compileParamsSchema(schema: ParamsSchema): ValidateFunction {
  const key = stringify(schema) ?? 'null';
  const cached = compiled.get(key);
  if (cached) return cached;
  checkSchemaObject(schema);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile({ type: 'object', ...schema });
  } catch (error) {
    throw new Error(`invalid params schema: ${(error as Error).message}`);
  }
  compiled.set(key, validate);
  return validate;
}

/**
 * The schema with every default Ajv applies (those of `properties` and tuple `items`) replaced by
 * `null`, or null when a default is not plain JSON (then only compiling the schema itself tells).
 * Ajv reads those defaults only to write them into the validator's code, so a schema is valid
 * exactly when its shape is.
 */
function schemaShape(schema: Exclude<ParamsSchema, boolean>): object | null {
  let shape: Record<string, unknown>;
  try {
    shape = structuredClone({ type: 'object', ...schema }) as Record<string, unknown>;
  } catch {
    return null;
  }
  let plain = true;
  const replaceDefault: traverse.Callback = (sub, _pointer, _root, _parentPointer, parentKeyword) => {
    if ((parentKeyword !== 'properties' && parentKeyword !== 'items') || !Object.hasOwn(sub, 'default')) return;
    try {
      if (typeof JSON.stringify(sub.default) !== 'string') plain = false;
    } catch {
      plain = false;
    }
    sub.default = null;
  };
  traverse(shape, replaceDefault);
  return plain ? shape : null;
}

/**
 * Throw an `Error` saying why a params schema is not a valid JSON Schema for params; return when
 * it is. Schemas that differ only in their defaults share one compilation, so a thousand DAGs
 * made from one template cost one compilation, not a thousand (~1 ms each); the validator with
 * the real defaults is compiled on first use, by {@link validateParams}.
 * @internal
 */
export function checkParamsSchema(schema: ParamsSchema): void {
  if (compiled.has(stringify(schema) ?? 'null')) return;
  checkSchemaObject(schema);
  const shape = schemaShape(schema);
  if (shape === null) {
    compileParamsSchema(schema);
    return;
  }
  const key = stringify(shape) ?? 'null';
  let verdict = shapeVerdicts.get(key);
  if (verdict === undefined) {
    try {
      shapeAjv.compile(shape);
      verdict = null;
    } catch (error) {
      verdict = `invalid params schema: ${(error as Error).message}`;
    }
    shapeVerdicts.set(key, verdict);
  }
  if (verdict !== null) throw new Error(verdict);
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
 * The path (`a.b.0`) of the first string or key holding U+0000, or null: PostgreSQL's JSONB (the
 * run's `conf`) refuses it, so such params are invalid whatever the schema says.
 */
function pathWithNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = pathWithNul(item, at);
    if (found !== null) return found;
  }
  return null;
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
  const nul = pathWithNul(value, '');
  if (nul !== null) {
    throw new ParamsValidationError(dagId, [{ path: nul, message: 'contains a NUL character (U+0000), which cannot be stored' }]);
  }
  if (schema === null) return value as Record<string, unknown>;
  const validate = compileParamsSchema(schema);
  if (!validate(value)) {
    throw new ParamsValidationError(dagId, (validate.errors ?? []).map(formatIssue));
  }
  return value as Record<string, unknown>;
}
