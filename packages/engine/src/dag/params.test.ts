import { describe, expect, it } from 'vitest';
import { ParamsValidationError } from '../errors.js';
import { validateParams } from './params.js';

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
});
