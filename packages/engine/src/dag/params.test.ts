import { describe, expect, it } from 'vitest';
import { ParamsValidationError } from '../errors.js';
import { checkParamsSchema, compileParamsSchema, validateParams } from './params.js';

const schema = {
  type: 'object',
  properties: {
    county: { type: 'string', minLength: 2 },
    limit: { type: 'integer', minimum: 1, default: 100 },
    since: { type: 'string', format: 'date' },
  },
  required: ['county'],
  additionalProperties: false,
} as const;

describe('validateParams', () => {
  it('applies defaults without changing the input', () => {
    const input = { county: 'king_wa' };
    expect(validateParams('d', schema, input)).toEqual({ county: 'king_wa', limit: 100 });
    expect(input).toEqual({ county: 'king_wa' });
  });

  it('names every invalid parameter', () => {
    let error: ParamsValidationError | undefined;
    try {
      validateParams('d', schema, { limit: 0, since: 'tomorrow', extra: 1 });
    } catch (e) {
      error = e as ParamsValidationError;
    }
    expect(error).toBeInstanceOf(ParamsValidationError);
    expect(error!.issues).toEqual(
      expect.arrayContaining([
        { path: 'county', message: 'is required' },
        { path: 'limit', message: 'must be >= 1' },
        { path: 'since', message: 'must match format "date"' },
        { path: 'extra', message: 'is not an allowed parameter' },
      ]),
    );
    expect(error!.message).toMatch(/^DAG 'd': invalid params: /);
  });

  it('accepts anything object-shaped when the DAG has no schema, and refuses non-objects', () => {
    expect(validateParams('d', null, { a: 1 })).toEqual({ a: 1 });
    expect(validateParams('d', null, undefined)).toEqual({});
    expect(() => validateParams('d', null, [1])).toThrow('must be a JSON object, got an array');
  });

  it('refuses a NUL character in any string or key, naming its path, schema or not', () => {
    expect(() => validateParams('d', null, { a: { b: ['ok', 'x\u0000'] } })).toThrow(
      "DAG 'd': invalid params: a.b.1 contains a NUL character (U+0000), which cannot be stored",
    );
    expect(() => validateParams('d', null, { 'k\u0000': 1 })).toThrow(/params: k\u0000 contains a NUL character/);
  });
});

describe('checkParamsSchema', () => {
  const withDefault = (value: unknown) => ({ type: 'object', properties: { limit: { type: 'integer', default: value } } }) as const;

  it('accepts schemas that differ only in their defaults, and validation applies each one', () => {
    for (const value of [1, 2, 3]) expect(() => checkParamsSchema(withDefault(value))).not.toThrow();
    expect(validateParams('d', withDefault(2), {})).toEqual({ limit: 2 });
    expect(validateParams('d', withDefault(3), {})).toEqual({ limit: 3 });
  });

  it('gives the verdict compiling gives, with the same message', () => {
    const schemas = [
      { type: 'object', properties: { limit: { type: 'integer', defualt: 1 } } },
      { type: 'object', properties: { default: 5 } },
      { type: 'object', properties: { a: { anyOf: [{ type: 'string', default: 'x' }] } } },
      { type: 'object', anyOf: [{ properties: { a: { type: 'string', default: 'x' } } }] },
      { type: 'object', properties: { t: { type: 'array', items: [{ type: 'string', default: 'x' }] } } },
      { type: 'object', properties: { big: { type: 'integer', default: 10n } } },
      { type: 'array' },
    ];
    const verdict = (check: () => unknown): string | null => {
      try {
        check();
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    };
    // Checked first: once the schema itself is compiled, the check has nothing left to decide.
    const checked = schemas.map((schema) => verdict(() => checkParamsSchema(schema as never)));
    const compiledVerdicts = schemas.map((schema) => verdict(() => compileParamsSchema(schema as never)));
    expect(checked).toEqual(compiledVerdicts);
    expect(compiledVerdicts.filter((v) => v === null)).toHaveLength(1);
  });

  it('tells a property named default from the default keyword', () => {
    const schema = { type: 'object', properties: { default: { type: 'string', default: 'x' } } } as const;
    expect(() => checkParamsSchema(schema)).not.toThrow();
    expect(validateParams('d', schema, {})).toEqual({ default: 'x' });
  });

  it('lets two DAGs use the same $id with different schemas', () => {
    const a = { $id: 'https://example.com/params', type: 'object', properties: { a: { type: 'integer', default: 1 } } } as const;
    const b = { $id: 'https://example.com/params', type: 'object', properties: { b: { type: 'string', default: 'x' } } } as const;
    checkParamsSchema(a);
    checkParamsSchema(b);
    expect(validateParams('a', a, {})).toEqual({ a: 1 });
    expect(validateParams('b', b, {})).toEqual({ b: 'x' });
  });
});
