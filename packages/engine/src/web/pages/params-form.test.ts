import { describe, expect, it } from 'vitest';
import type { ParamsSchema } from '../../dag/types.js';
import { paramFields, readParams } from './params-form.js';

const schema: ParamsSchema = {
  type: 'object',
  properties: {
    county: { type: 'string', pattern: '^[a-z_]+$', description: 'Which county to scrape' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 25 },
    ratio: { type: 'number' },
    dryRun: { type: 'boolean', default: true },
    mode: { enum: ['fast', 'slow', 3], default: 'fast' },
    since: { type: 'string', format: 'date' },
    at: { type: 'string', format: 'date-time', default: '2024-05-01T06:30:00Z' },
    tags: { type: 'array', items: { type: 'string' }, default: ['a'] },
    note: { type: ['string', 'null'], title: 'A note' },
  },
  required: ['county'],
};

describe('trigger form fields from a params schema', () => {
  it('chooses an input per property, required ones first then by name, and fills in defaults', () => {
    const fields = paramFields(schema);
    expect(fields.map((f) => [f.name, f.input, f.required])).toEqual([
      ['county', 'text', true],
      ['at', 'datetime', false],
      ['dryRun', 'checkbox', false],
      ['limit', 'integer', false],
      ['mode', 'select', false],
      ['note', 'text', false],
      ['ratio', 'number', false],
      ['since', 'date', false],
      ['tags', 'json', false],
    ]);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName.limit).toMatchObject({ value: '25', hints: ['1–500'], min: 1, max: 500 });
    expect(byName.county).toMatchObject({ description: 'Which county to scrape', hints: ['pattern ^[a-z_]+$'], field: 'param.county' });
    expect(byName.dryRun!.checked).toBe(true);
    expect(byName.mode!.options).toEqual([{ value: '"fast"', label: 'fast' }, { value: '"slow"', label: 'slow' }, { value: '3', label: '3' }]);
    expect(byName.mode!.value).toBe('"fast"');
    expect(byName.at!.value).toBe('2024-05-01T06:30');
    expect(byName.tags!.value).toBe('[\n  "a"\n]');
    expect(byName.note!.label).toBe('A note');
  });

  it('shows what was submitted again after a failed submit', () => {
    const fields = paramFields(schema, { 'param.county': 'King County', 'param.limit': '0' });
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName.county!.value).toBe('King County');
    expect(byName.limit!.value).toBe('0');
    expect(byName.dryRun!.checked).toBe(false);
  });

  it('has no fields without a schema', () => {
    expect(paramFields(null)).toEqual([]);
  });
});

describe('reading the submitted form', () => {
  const fields = paramFields(schema);

  it('converts to the types the schema asks for and leaves empty optional fields out', () => {
    const { params, errors } = readParams(fields, {
      'param.county': 'king',
      'param.limit': '40',
      'param.ratio': '0.5',
      'param.dryRun': 'on',
      'param.mode': '3',
      'param.since': '2024-05-01',
      'param.at': '2024-05-01T06:30',
      'param.tags': '["x", "y"]',
      'param.note': '',
    });
    expect(errors).toEqual({});
    expect(params).toEqual({ county: 'king', limit: 40, ratio: 0.5, dryRun: true, mode: 3, since: '2024-05-01', at: '2024-05-01T06:30:00Z', tags: ['x', 'y'] });
  });

  it('passes text that is not a number on as text, so validation names the field', () => {
    expect(readParams(fields, { 'param.limit': 'many' }).params).toMatchObject({ limit: 'many', dryRun: false });
  });

  it('reports JSON that does not parse against its field', () => {
    const { errors } = readParams(fields, { 'param.tags': '[1,' });
    expect(errors.tags).toMatch(/^is not valid JSON/);
  });
});
