import { afterAll, describe, expect, it } from 'vitest';
import { discoverDagFiles } from '../src/processor/discover.js';
import { ParsePool } from '../src/processor/parse-pool.js';
import { PACKAGE_DIR, tempDagFolder } from './helpers.js';

/** A DAG file whose description shows the helper's value and how often this thread loaded it. */
const USES_HELPER = (id: string) => `
import { dag } from '@tributary/engine';
import { loads, value } from './helper.js';
const d = dag({ id: '${id}', description: \`\${value}/\${loads}\` });
d.task('only', () => value);
export default d;
`;
const HELPER = (value: string) => `
const state = globalThis as { helperLoads?: number };
state.helperLoads = (state.helperLoads ?? 0) + 1;
export const loads = state.helperLoads;
export const value = '${value}';
`;

describe('the parse pool', () => {
  const folder = tempDagFolder({ 'helper.ts': HELPER('one'), 'first.ts': USES_HELPER('first'), 'second.ts': USES_HELPER('second') });
  const pool = new ParsePool({ threads: 1, timeoutMs: 5000, memoryLimitMb: 256 });
  afterAll(async () => {
    await pool.close();
    folder.remove();
  });

  const parse = async (): Promise<Record<string, string | null>> => {
    const files = (await discoverDagFiles([folder.dir], PACKAGE_DIR)).filter((f) => !f.relative.endsWith('/helper.ts'));
    const results = await pool.parse(files);
    return Object.fromEntries(
      results.map((r) => [r.file.relative.split('/').pop()!, r.error ? `error: ${r.error.message}` : (r.dags[0]?.serialized.description ?? null)]),
    );
  };

  it('runs each pass on threads started ahead that hold no module of an earlier pass', async () => {
    await pool.warmUp();
    // One thread: both files share the helper within a pass, and each pass loads it once, afresh.
    expect(await parse()).toEqual({ 'first.ts': 'one/1', 'second.ts': 'one/1' });
    await pool.warmUp();
    folder.write('helper.ts', HELPER('two'));
    expect(await parse()).toEqual({ 'first.ts': 'two/1', 'second.ts': 'two/1' });
    expect(await parse()).toEqual({ 'first.ts': 'two/1', 'second.ts': 'two/1' });
  });

  it('turns a file that exits, exhausts memory or hangs into its own error and parses the rest', async () => {
    await pool.warmUp();
    folder.write('a-exits.ts', 'process.exit(3);');
    folder.write('b-oom.ts', 'const keep: number[][] = [];\nfor (;;) keep.push(new Array(1_000_000).fill(1));');
    folder.write('c-hangs.ts', 'while (true) {}');
    const results = await parse();
    expect(results['a-exits.ts']).toBe('error: the file ended the process while loading (process.exit(3))');
    expect(results['b-oom.ts']).toBe('error: import ran out of memory (limit 256 MB)');
    expect(results['c-hangs.ts']).toMatch(/^error: import timed out after 5000 ms/);
    expect(results['first.ts']).toBe('two/1');
    expect(results['second.ts']).toBe('two/1');
  });
});
