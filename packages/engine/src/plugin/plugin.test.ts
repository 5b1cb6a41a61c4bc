import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OperatorArgsError, operatorFactory } from './operator.js';
import { definePlugin } from './plugin.js';

describe('definePlugin', () => {
  const base = { name: 'demo', version: '1.0.0', operators: {} };

  it('accepts a full plugin and freezes it', () => {
    const plugin = definePlugin({
      ...base,
      schema: 'demo',
      migrations: { '0001': { up: async () => {} } },
      configSchema: z.object({}),
      connectionTypes: { api: { description: 'an API', fields: z.object({ key: z.string() }), secretFields: ['key'] } },
      routes: () => ({ fetch: () => new Response('ok') }),
      healthChecks: { ping: () => ({ ok: true }) },
      operators: { a: () => 1, b: { run: () => 2 } },
    });
    expect(Object.isFrozen(plugin)).toBe(true);
  });

  it.each([
    [{ ...base, name: 'Bad Name' }, /name must be lower-case/],
    [{ ...base, operators: { x: 42 } }, /operator 'x' must be a function or a defineOperator\(\) definition/],
    [{ ...base, migrations: { '0001': { up: async () => {} } } }, /migrations need a schema/],
    [{ ...base, schema: 'tributary' }, /schema 'tributary' is not the plugin's own/],
    [{ ...base, schema: 'Bad-Schema' }, /schema must be a lower-case SQL identifier/],
    [{ ...base, routes: {} }, /routes must have a fetch\(request\) method/],
    [{ ...base, configSchema: {} }, /configSchema must have safeParse/],
    [{ ...base, connectionTypes: { api: { description: 'x' } } }, /connection type 'api' needs a fields schema/],
  ])('rejects a broken plugin where it is declared (%#)', (plugin, message) => {
    expect(() => definePlugin(plugin as never)).toThrow(message);
  });
});

describe('operatorFactory', () => {
  const greet = operatorFactory<{ name: string; times?: number }, string>({
    operator: 'hello.greet',
    package: '@acme/hello',
    args: z.object({ name: z.string().min(1), times: z.number().int().default(1) }).strict(),
  });

  it('returns a serializable spec with validated, defaulted arguments', () => {
    expect(greet({ name: 'Ada' })).toEqual({ operator: 'hello.greet', plugin: '@acme/hello', args: { name: 'Ada', times: 1 } });
  });

  it('names the operator and every bad field where the DAG is defined', () => {
    let error: unknown;
    try {
      greet({ name: '', times: 1.5, colour: 'red' } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OperatorArgsError);
    expect((error as OperatorArgsError).issues.map((i) => i.field)).toEqual(['name', 'times', '']);
    expect((error as Error).message).toMatch(/^greet\(\): invalid arguments: 'name': Too small.*; 'times': .*; unknown option colour$/);
  });

  it('rejects an operator name that is not <plugin>.<operator>', () => {
    expect(() => operatorFactory({ operator: 'greet' })).toThrow(/must be '<plugin>.<operator>'/);
  });
});
