import { sql } from 'kysely';
import type { BenchResult } from '../report.js';
import { benchEngine, workFolder, type Scenario } from '../scenario.js';

/** A realistic small DAG file: a schedule, params and five tasks. */
function dagFile(index: number, marker = 'v1'): string {
  return `import { dag } from '@tributary/engine';
const d = dag({
  id: 'generated_${index}',
  description: 'Generated DAG ${index} (${marker})',
  schedule: '${index % 60} * * * *',
  startDate: '2024-01-01',
  tags: ['generated'],
  params: { type: 'object', properties: { limit: { type: 'integer', default: ${index} } } },
});
const extract = d.task('extract', ({ params }) => params.limit);
const a = d.task('transform_a', { upstream: [extract] }, ({ upstream }) => upstream.extract + 1);
const b = d.task('transform_b', { upstream: [extract], retries: 2 }, ({ upstream }) => upstream.extract * 2);
const load = d.task('load', { upstream: [a, b] }, ({ upstream }) => upstream.transform_a + upstream.transform_b);
d.task('report', { upstream: [load], triggerRule: 'all_done' }, () => '${marker}');
export default d;
`;
}

/**
 * `parse`: load N DAG files from scratch (import, validate, serialize, store), then edit one while
 * watching and time until its new version is in the database.
 */
export const parse: Scenario = {
  name: 'parse',
  description: 'N DAG files: full load time; time to pick up one edited file',
  async run(ctx) {
    const files = ctx.quick ? 200 : 1000;
    const folder = workFolder('parse');
    for (let i = 0; i < files; i++) folder.write(`dag_${i}.ts`, dagFile(i));
    const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
    try {
      const started = performance.now();
      const summary = await engine.parseDags();
      const full = performance.now() - started;
      if (summary.dags !== files || summary.importErrors > 0) throw new Error(`parsed ${summary.dags} DAGs with ${summary.importErrors} errors`);
      // Resolves once the processor is idle and its parse threads for the next change have started:
      // the steady state of a processor watching its folders, where an edit usually arrives.
      await engine.processor.watch();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const edited = performance.now();
      folder.write('dag_7.ts', dagFile(7, 'v2'));
      for (;;) {
        const v = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.dag_version WHERE dag_id = 'generated_7'`.execute(engine.db);
        if (v.rows[0]!.n === 2) break;
        if (performance.now() - edited > 30_000) throw new Error('edited file not picked up within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const pickup = performance.now() - edited;
      ctx.log(`parse: ${files} files in ${Math.round(full)} ms; edit picked up in ${Math.round(pickup)} ms`);
      const result = (metric: string, value: number, unit: string): BenchResult => ({ scenario: 'parse', system: 'tributary', metric, value, unit });
      return [result('files', files, 'files'), result('full_load', full, 'ms'), result('edit_pickup', pickup, 'ms')];
    } finally {
      await close();
      folder.remove();
    }
  },
};
