import type { ParamsSchema } from '../../dag/types.js';

/** How a param is entered on the trigger form. */
export type ParamInput = 'text' | 'textarea' | 'number' | 'integer' | 'checkbox' | 'select' | 'date' | 'datetime' | 'json';

/** One field of the trigger form, made from a property of the DAG's params schema. */
export interface ParamField {
  name: string;
  /** Form field name (`param.<name>`). */
  field: string;
  label: string;
  description: string | null;
  input: ParamInput;
  required: boolean;
  /** What the field shows: the submitted text, else the schema default as text. */
  value: string;
  /** For checkboxes. */
  checked: boolean;
  /** For selects: the choices as JSON text (the value) and how they read. */
  options: { value: string; label: string }[];
  /** Constraints shown next to the field (`1–100`, `pattern ^[a-z]+$`). */
  hints: string[];
  min?: number;
  max?: number;
}

/** A JSON Schema property as far as the form looks at it. */
interface Property {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: { type?: string; enum?: unknown[] };
  examples?: unknown[];
}

/** The prefix of a param's form field name. */
export const PARAM_FIELD_PREFIX = 'param.';

function mainType(p: Property): string | undefined {
  const types = Array.isArray(p.type) ? p.type.filter((t) => t !== 'null') : p.type ? [p.type] : [];
  return types[0];
}

function inputOf(p: Property): ParamInput {
  if (p.enum && p.enum.length > 0) return 'select';
  switch (mainType(p)) {
    case 'boolean':
      return 'checkbox';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'array':
    case 'object':
      return 'json';
    case 'string':
      if (p.format === 'date') return 'date';
      if (p.format === 'date-time') return 'datetime';
      return (p.maxLength ?? 0) > 200 ? 'textarea' : 'text';
    default:
      return p.type === undefined && p.default !== undefined && typeof p.default === 'object' ? 'json' : 'text';
  }
}

/** A value as the text a field shows. */
function asText(input: ParamInput, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (input === 'json' || input === 'select') return JSON.stringify(value, null, input === 'json' ? 2 : undefined) ?? '';
  if (input === 'datetime' && typeof value === 'string') return value.replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)$/, '').slice(0, 16);
  return String(value);
}

function hintsOf(p: Property): string[] {
  const hints: string[] = [];
  const min = p.minimum ?? p.exclusiveMinimum;
  const max = p.maximum ?? p.exclusiveMaximum;
  if (min !== undefined && max !== undefined) hints.push(`${min}–${max}`);
  else if (min !== undefined) hints.push(`${p.exclusiveMinimum !== undefined ? '>' : '≥'} ${min}`);
  else if (max !== undefined) hints.push(`${p.exclusiveMaximum !== undefined ? '<' : '≤'} ${max}`);
  if (p.minLength !== undefined || p.maxLength !== undefined) hints.push(`${p.minLength ?? 0}–${p.maxLength ?? '∞'} characters`);
  if (p.pattern) hints.push(`pattern ${p.pattern}`);
  if (p.format && !['date', 'date-time'].includes(p.format)) hints.push(p.format);
  if (mainType(p) === 'array') hints.push('JSON list');
  if (mainType(p) === 'object') hints.push('JSON object');
  return hints;
}

/**
 * The trigger form's fields for a params schema, filled with `submitted` text (after a failed
 * submit) or else the defaults.
 */
export function paramFields(schema: ParamsSchema | null, submitted: Record<string, string | undefined> | null = null): ParamField[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, Property>; required?: string[] };
  const required = new Set(s.required ?? []);
  // Stored schemas are JSONB, which does not keep the order properties were declared in: show the
  // required ones first, then the rest, each by name.
  const entries = Object.entries(s.properties ?? {}).sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)) || a.localeCompare(b));
  return entries.map(([name, p]) => {
    const input = inputOf(p);
    const field = `${PARAM_FIELD_PREFIX}${name}`;
    const given = submitted ? submitted[field] : undefined;
    return {
      name,
      field,
      label: p.title ?? name,
      description: p.description ?? null,
      input,
      required: required.has(name),
      value: submitted && input !== 'checkbox' ? (given ?? '') : asText(input, p.default),
      checked: submitted ? given !== undefined : p.default === true,
      options: (p.enum ?? []).map((v) => ({ value: JSON.stringify(v), label: typeof v === 'string' ? v : JSON.stringify(v) })),
      hints: hintsOf(p),
      ...(p.minimum !== undefined ? { min: p.minimum } : {}),
      ...(p.maximum !== undefined ? { max: p.maximum } : {}),
    };
  });
}

/** Params read from the form, and the fields that could not be read at all (bad JSON). */
export interface ParsedParams {
  params: Record<string, unknown>;
  errors: Record<string, string>;
}

/**
 * Turn the submitted form into params for the schema: numbers and booleans as such, JSON fields
 * parsed, date-times as ISO strings, empty optional fields left out (so defaults apply). Text that
 * is not a number is passed on as text, so the schema check names the field and what it expected.
 */
export function readParams(fields: readonly ParamField[], form: Record<string, string | undefined>): ParsedParams {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = form[f.field];
    if (f.input === 'checkbox') {
      params[f.name] = raw !== undefined;
      continue;
    }
    const text = (raw ?? '').trim();
    if (text === '') continue;
    switch (f.input) {
      case 'integer':
      case 'number':
        params[f.name] = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : text;
        break;
      case 'select':
      case 'json':
        try {
          params[f.name] = JSON.parse(text);
        } catch (error) {
          if (f.input === 'select') params[f.name] = text;
          else errors[f.name] = `is not valid JSON: ${(error as Error).message}`;
        }
        break;
      case 'datetime':
        params[f.name] = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(text) ? `${text.length === 16 ? `${text}:00` : text}Z` : text;
        break;
      default:
        params[f.name] = raw ?? '';
    }
  }
  return { params, errors };
}
