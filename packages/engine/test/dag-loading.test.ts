import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDags, listImportErrors } from '../src/service/dags.js';
import { runDagToCompletion } from '../src/testing/index.js';
import { eventually, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';

const GOOD = (id: string, body = "'ok'") => `
import { dag } from '@tributary/engine';
const d = dag({ id: '${id}', schedule: '@hourly', startDate: '2024-01-01', catchup: false });
d.task('only', () => ${body});
export default d;
`;

const POISON: Record<string, [string, RegExp]> = {
  'throws.ts': ["throw new Error('config missing at import');", /config missing at import/],
  'syntax.ts': ['export const broken = ;', /Transform failed|Unexpected|Expected/],
  'hangs.ts': ['while (true) {}', /import timed out after 8000 ms/],
  'exits.ts': ['process.exit(7);', /ended the process while loading \(process\.exit\(7\)\)/],
  'cycle.ts': [
    `import { dag } from '@tributary/engine';
const d = dag({ id: 'cyclic' });
d.task('a', { upstream: ['c'] }, () => 1);
d.task('b', { upstream: ['a'] }, () => 1);
d.task('c', { upstream: ['b'] }, () => 1);
export default d;`,
    /DAG 'cyclic': dependency cycle: a -> b -> c -> a/,
  ],
  'bad-option.ts': [
    `import { dag } from '@tributary/engine';
const d = dag({ id: 'bad_option' });
d.task('t', { retries: 'three' } as never, () => 1);
export default d;`,
    /DAG 'bad_option': task 't': option 'retries': expected an integer >= 0, got "three"/,
  ],
  // Sorts after good-one.ts: the first file (by path) to define an id keeps it.
  'zz-duplicate.ts': [GOOD('good_one'), /DAG id 'good_one' is already defined in .*good-one\.ts/],
};

describe('loading a DAG folder', () => {
  const folder = tempDagFolder({ 'good-one.ts': GOOD('good_one'), 'sub/good-two.ts': GOOD('good_two'), 'helper.ts': 'export const x = 1;' });
  for (const [name, [source]] of Object.entries(POISON)) folder.write(name, source);
  let setup: TestSetup;
  beforeAll(async () => {
    // The hanging file costs one timeout per full parse; generous so that a loaded machine does not
    // time out healthy files (latency targets live in the benchmark, not here).
    setup = await setupEngine({ dagsFolders: [folder.dir], parse: { timeoutMs: 8000, threads: 2 } });
  });
  afterAll(async () => {
    await setup?.close();
    folder.remove();
  });

  it('records each broken file as its own import error and loads every good DAG', async () => {
    const summary = await setup.engine.parseDags();
    expect(summary.files).toBe(3 + Object.keys(POISON).length);
    const errors = await listImportErrors(setup.engine.db);
    expect(errors.map((e) => e.file.split('/').pop()).sort()).toEqual(Object.keys(POISON).sort());
    for (const [name, [, pattern]] of Object.entries(POISON)) {
      expect(errors.find((e) => e.file.endsWith(`/${name}`))!.message, name).toMatch(pattern);
    }
    const dags = await listDags(setup.engine.db);
    expect(dags.map((d) => d.dagId)).toEqual(['good_one', 'good_two']);
    expect(dags[1]!.file).toMatch(/\.test-tmp\/[0-9a-f]+\/sub\/good-two\.ts$/);
  });

  it('keeps scheduling and running the good DAGs beside the broken files', async () => {
    setup.engine.startScheduler();
    await setup.engine.startWorker();
    const runs = await eventually(async () => {
      const rows = await setup.engine.db.selectFrom('tributary.dag_run').select(['dag_id', 'state', 'run_type']).where('state', '=', 'success').execute();
      return new Set(rows.map((r) => r.dag_id)).size === 2 ? rows : undefined;
    }, 20_000, 'a successful scheduled run of each good DAG');
    expect(runs.every((r) => r.run_type === 'scheduled')).toBe(true);
  });

  it('records a new version when a file changes; earlier runs keep theirs', async () => {
    const first = await runDagToCompletion(setup.engine, 'good_one');
    folder.write('good-one.ts', GOOD('good_one', "'changed'"));
    const second = await runDagToCompletion(setup.engine, 'good_one');
    expect(second.run.dag_version_id).not.toBe(first.run.dag_version_id);
    const versions = await setup.engine.db.selectFrom('tributary.dag_version').select(['id', 'version_number']).where('dag_id', '=', 'good_one').orderBy('id').execute();
    expect(versions.map((v) => v.version_number)).toEqual([1, 2]);
    expect(versions.map((v) => v.id)).toEqual([first.run.dag_version_id, second.run.dag_version_id]);
  });

  it('picks up an edited file when watching (no polling), and clears its import error once fixed', async () => {
    await setup.engine.processor.watch();
    const path = folder.write('throws.ts', GOOD('was_broken'));
    // Only that file is re-parsed, so this does not wait for the hanging file's timeout.
    await eventually(async () => (await listDags(setup.engine.db)).some((d) => d.dagId === 'was_broken'), 7_000, 'the fixed file to load');
    expect((await listImportErrors(setup.engine.db)).some((e) => e.file.endsWith('/throws.ts'))).toBe(false);
    expect(path).toMatch(/throws\.ts$/);
  });
});
