import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigFileError, parseConfigText } from './config-file.js';

const schema = z
  .object({
    name: z.string(),
    renderer: z.enum(['static', 'browser']),
    limits: z.object({ maxPages: z.number().int().positive(), perSecond: z.number().optional() }).strict(),
    urls: z.array(z.string().url()).min(1),
    transform: z.union([z.string(), z.object({ regex: z.string() })]).optional(),
  })
  .strict();

function problems(text: string): ConfigFileError['problems'] {
  try {
    parseConfigText(text, schema, 'counties/x.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return (error as ConfigFileError).problems;
  }
  throw new Error('expected the config to be invalid');
}

describe('parseConfigText', () => {
  it('returns the parsed value of a valid file', () => {
    const value = parseConfigText('name: King\nrenderer: static\nlimits: { maxPages: 5 }\nurls: [http://a.test/]\n', schema, 'x.yaml');
    expect(value).toEqual({ name: 'King', renderer: 'static', limits: { maxPages: 5 }, urls: ['http://a.test/'] });
  });

  it('names the line, column and field of a wrong value and says what was expected', () => {
    const [problem] = problems('name: King\nrenderer: static\nlimits:\n  maxPages: lots\nurls: [http://a.test/]\n');
    expect(problem).toMatchObject({ field: 'limits.maxPages', line: 4, column: 13 });
    expect(problem!.message).toMatch(/expected number, received string/);
  });

  it('points at a misspelt key itself', () => {
    const [problem] = problems('name: King\nrenderer: static\nlimits:\n  maxPages: 3\n  perSecnd: 2\nurls: [http://a.test/]\n');
    expect(problem).toMatchObject({ field: 'limits', line: 5, column: 3 });
    expect(problem!.message).toBe("unknown key 'perSecnd' (check the spelling)");
  });

  it('reports a missing field at its parent, and every problem at once', () => {
    const found = problems('name: King\nrenderer: headless\nlimits: {}\nurls: []\n');
    expect(found.map((p) => p.field)).toEqual(['renderer', 'limits.maxPages', 'urls']);
    expect(found[0]!.message).toMatch(/expected one of "static"\|"browser"/);
    expect(found[1]).toMatchObject({ line: 3, message: expect.stringMatching(/^missing \(expected number\)/) });
    expect(found[2]!.message).toMatch(/>=1 items|at least 1/i);
  });

  it('lists the alternatives of a union', () => {
    const [problem] = problems('name: K\nrenderer: static\nlimits: { maxPages: 1 }\nurls: [http://a.test/]\ntransform: 5\n');
    expect(problem).toMatchObject({ field: 'transform', line: 5 });
    expect(problem!.message).toBe('expected string or object, got 5');
  });

  it('reports YAML syntax errors with their position', () => {
    const [problem] = problems('name: King\nurls: [http://a.test/,\nrenderer: static\n');
    expect(problem!.field).toBe('');
    expect(problem!.line).toBeGreaterThanOrEqual(2);
    expect(problem!.message).toMatch(/^not valid YAML/);
  });

  it('puts file:line:column in the error message', () => {
    expect(() => parseConfigText('name: 1\nrenderer: static\nlimits: {maxPages: 1}\nurls: [x]\n', schema, 'counties/x.yaml')).toThrow(
      /counties\/x\.yaml:1:7: name: expected string, received number\n {2}counties\/x\.yaml:4:8: urls\.0: /,
    );
  });
});
