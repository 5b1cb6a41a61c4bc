import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dag } from '../src/dag/index.js';
import { hashSerializedDag, serializeDag } from '../src/dag/serialize.js';
import type { FileParseResult } from '../src/processor/parse-protocol.js';
import { StreamingSync, syncParseResults } from '../src/processor/sync.js';
import { setupEngine, type TestSetup } from './helpers.js';

/** The parse result of a file defining `ids` (each DAG's description is `marker`). */
function parsed(path: string, ids: readonly string[], marker = 'v1'): FileParseResult {
  const dags = ids.map((id) => {
    const d = dag({ id, description: marker, schedule: '@daily', startDate: '2024-01-01' });
    d.task('only', () => 1);
    const serialized = serializeDag(d, path);
    return { serialized, hash: hashSerializedDag(serialized) };
  });
  return { file: { absolute: `/project/${path}`, relative: path }, durationMs: 1, contentHash: `${path}:${marker}`, source: `// ${marker}`, dags, error: null };
}

const path = (i: number): string => `dags/f${String(i).padStart(3, '0')}.ts`;
const always = (): boolean => true;

describe('storing parse results', () => {
  let setup: TestSetup;
  beforeAll(async () => {
    setup = await setupEngine();
  });
  afterAll(() => setup?.close());

  const dagRows = () =>
    setup.engine.db
      .selectFrom('tributary.dag as d')
      .leftJoin('tributary.dag_version as v', 'v.id', 'd.latest_version_id')
      .select(['d.dag_id', 'd.file', 'd.is_active', 'd.description', 'v.version_number', 'v.hash'])
      .orderBy('d.dag_id')
      .execute();
  const importErrors = () => setup.engine.db.selectFrom('tributary.import_error').select(['file', 'message']).orderBy('file').execute();

  it('stores hundreds of files, several transactions of them, as it would file by file', async () => {
    const results = Array.from({ length: 450 }, (_, i) => parsed(path(i), [`d_${i}`]));
    // Defined again in a later transaction, and again in the same transaction: the later file loses.
    results[300] = parsed(path(300), ['d_300', 'd_10']);
    results[12] = parsed(path(12), ['d_11']);
    const summary = await syncParseResults(setup.engine.db, results, always);
    expect(summary).toEqual({ files: 450, dags: 448, newVersions: 448, importErrors: 2 });
    expect(await importErrors()).toEqual([
      { file: path(12), message: `DAG id 'd_11' is already defined in ${path(11)}; DAG ids must be unique` },
      { file: path(300), message: `DAG id 'd_10' is already defined in ${path(10)}; DAG ids must be unique` },
    ]);
    const rows = await dagRows();
    expect(rows).toHaveLength(448);
    expect(rows.every((r) => r.is_active && r.version_number === 1)).toBe(true);
    expect(rows.find((r) => r.dag_id === 'd_10')!.file).toBe(path(10));
    const stored = results.filter((r) => r !== results[12] && r !== results[300]);
    const versions = new Map(stored.flatMap((r) => r.dags.map((d) => [d.serialized.dagId, d.hash] as const)));
    expect(rows.every((r) => r.hash === versions.get(r.dag_id))).toBe(true);
    const files = await setup.engine.db.selectFrom('tributary.dag_file').select(['path', 'dag_ids']).execute();
    expect(files).toHaveLength(448);
    expect(files.find((f) => f.path === path(7))!.dag_ids).toEqual(['d_7']);
  });

  it('records a version only for a changed DAG, and points the DAG at it', async () => {
    const again = Array.from({ length: 3 }, (_, i) => parsed(path(i), [`d_${i}`]));
    expect(await syncParseResults(setup.engine.db, again, always)).toMatchObject({ dags: 3, newVersions: 0 });
    again[1] = parsed(path(1), ['d_1'], 'v2');
    expect(await syncParseResults(setup.engine.db, again, always)).toMatchObject({ dags: 3, newVersions: 1 });
    const rows = await dagRows();
    expect(rows.find((r) => r.dag_id === 'd_1')).toMatchObject({ description: 'v2', version_number: 2 });
    expect(rows.find((r) => r.dag_id === 'd_0')).toMatchObject({ description: 'v1', version_number: 1 });
  });

  it('frees an id a file dropped for a later file of the same pass, and retires dropped DAGs', async () => {
    await syncParseResults(setup.engine.db, [parsed('moves/a.ts', ['moving', 'dropped']), parsed('moves/b.ts', ['stays'])], always);
    const summary = await syncParseResults(setup.engine.db, [parsed('moves/a.ts', []), parsed('moves/b.ts', ['stays', 'moving'])], always);
    expect(summary).toMatchObject({ importErrors: 0, dags: 2 });
    const rows = (await dagRows()).filter((r) => ['moving', 'dropped', 'stays'].includes(r.dag_id));
    expect(rows.map((r) => [r.dag_id, r.file, r.is_active])).toEqual([
      ['dropped', 'moves/a.ts', false],
      ['moving', 'moves/b.ts', true],
      ['stays', 'moves/b.ts', true],
    ]);
    expect((await importErrors()).filter((e) => e.file.startsWith('moves/'))).toEqual([]);
  });

  it('stores results arriving in any order as it would in file order, while they arrive', async () => {
    const results = Array.from({ length: 420 }, (_, i) => parsed(`stream/f${String(i).padStart(3, '0')}.ts`, [`s_${i}`]));
    results[5] = parsed('stream/f005.ts', ['s_400']); // an earlier file than the one defining s_400 too
    const store = new StreamingSync(setup.engine.db, results.length, always);
    // Last first: the file defining s_400 arrives long before f005, yet f005 keeps the id.
    const order = results.map((_, i) => i).reverse();
    for (const i of order.slice(0, 300)) store.add(results[i]!, i);
    const early = await setup.engine.db.selectFrom('tributary.dag').select('dag_id').where('dag_id', 'like', 's\\_%').execute();
    expect(early).toEqual([]); // nothing stored: the first 200 files are not all in
    for (const i of order.slice(300)) store.add(results[i]!, i);
    expect(await store.finish(results)).toEqual({ files: 420, dags: 419, newVersions: 419, importErrors: 1 });
    expect((await importErrors()).filter((e) => e.file.startsWith('stream/'))).toEqual([
      { file: 'stream/f400.ts', message: "DAG id 's_400' is already defined in stream/f005.ts; DAG ids must be unique" },
    ]);
  });

  it('turns a file whose data Postgres refuses into its import error and stores the others', async () => {
    const results = [parsed('nul/a.ts', ['nul_a']), parsed('nul/b.ts', ['nul_b'], 'has a \u0000 character'), parsed('nul/c.ts', ['nul_c'])];
    const summary = await syncParseResults(setup.engine.db, results, always);
    expect(summary).toEqual({ files: 3, dags: 2, newVersions: 2, importErrors: 1 });
    const errors = (await importErrors()).filter((e) => e.file.startsWith('nul/'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe('nul/b.ts');
    expect(errors[0]!.message).toMatch(/^could not be stored: .*(0x00|\\u0000)/);
    expect((await dagRows()).filter((r) => r.dag_id.startsWith('nul_')).map((r) => r.dag_id)).toEqual(['nul_a', 'nul_c']);
  });
});
