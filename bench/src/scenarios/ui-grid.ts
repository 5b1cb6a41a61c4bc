import { sql } from 'kysely';
import { createUser, triggerDag, type Tributary } from '@tributary/engine';
import { createWebApp } from '@tributary/engine/web';
import { percentile, type BenchResult } from '../report.js';
import { benchEngine, workFolder, type Scenario, type ScenarioContext } from '../scenario.js';

/** One DAG of `groups` task groups, each a chain of `perGroup` tasks, the groups in sequence. */
function wideDagSource(id: string, groups: number, perGroup: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: '${id}', description: 'grid benchmark: ${groups * perGroup} tasks in ${groups} groups' });
let previous: ReturnType<typeof d.group> | null = null;
for (let g = 0; g < ${groups}; g++) {
  const group = d.group(\`stage_\${g}\`, { upstream: previous ? [previous] : [] }, (s) => {
    let last: ReturnType<typeof s.task> | null = null;
    for (let i = 0; i < ${perGroup}; i++) last = s.task(\`step_\${i}\`, { upstream: last ? [last] : [] }, () => null);
  });
  previous = group;
}
export default d;
`;
}

/** A small realistic DAG file for the list: schedule, tags, description, five tasks. */
function listDagSource(index: number): string {
  return `import { dag } from '@tributary/engine';
const d = dag({ id: 'listed_${String(index).padStart(4, '0')}', description: 'Listed DAG ${index}: scrape, enrich and score county ${index % 40}',
  schedule: '${index % 60} * * * *', startDate: '2024-01-01', tags: ['bench', 'county_${index % 40}'] });
const a = d.task('extract', () => 1);
const b = d.task('enrich', { upstream: [a] }, () => 2);
const c = d.task('score', { upstream: [b] }, () => 3);
d.task('report', { upstream: [c] }, () => 4);
d.task('notify', { upstream: [c] }, () => 5);
export default d;
`;
}

/** Give every task instance of the DAG a finished state, as after real runs: mostly success, some failures. */
async function finishRuns(engine: Tributary, dagId: string): Promise<void> {
  await sql`
    UPDATE tributary.task_instance t
       SET state = CASE WHEN (t.id % 97) = 0 THEN 'failed' WHEN (t.id % 89) = 0 THEN 'upstream_failed'
                        WHEN (t.id % 53) = 0 THEN 'skipped' ELSE 'success' END,
           try_number = CASE WHEN (t.id % 31) = 0 THEN 2 ELSE 1 END,
           start_date = r.created_at + (t.id % 600) * interval '1 second',
           end_date = r.created_at + (t.id % 600 + 1 + t.id % 7) * interval '1 second'
      FROM tributary.dag_run r WHERE r.id = t.run_pk AND r.dag_id = ${dagId}`.execute(engine.db);
  await sql`
    UPDATE tributary.dag_run r
       SET state = CASE WHEN EXISTS (SELECT 1 FROM tributary.task_instance t WHERE t.run_pk = r.id AND t.state = 'failed') THEN 'failed' ELSE 'success' END,
           start_date = r.created_at, end_date = r.created_at + (600 + r.id % 120) * interval '1 second'
     WHERE r.dag_id = ${dagId}`.execute(engine.db);
}

/** Sign in through the login form (its JSON variant) as a new viewer; returns the session cookie. */
async function session(engine: Tributary, app: ReturnType<typeof createWebApp>): Promise<string> {
  await createUser(engine.db, { username: 'bench', role: 'viewer', password: 'bench-password-1' }, { name: 'bench', origin: 'bench' });
  const form = await app.request('/login');
  const csrfCookie = form.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('tributary_csrf='))!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = await app.request('/login', {
    method: 'POST',
    headers: { cookie: csrfCookie, 'content-type': 'application/json', 'x-csrf-token': token },
    body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }),
  });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status}`);
  return login.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('tributary_session='))!;
}

/** Render `path` `times` times after warming up; p50/p95 of the time to the whole HTML, and its size. */
async function renders(app: ReturnType<typeof createWebApp>, cookie: string, path: string, times: number, check: (html: string) => void) {
  const once = async () => {
    const started = performance.now();
    const response = await app.request(path, { headers: { cookie, accept: 'text/html' } });
    const html = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${html.slice(0, 300)}`);
    check(html);
    return { ms, bytes: html.length };
  };
  const first = await once();
  for (let i = 0; i < 2; i++) await once();
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < times; i++) {
    const r = await once();
    samples.push(r.ms);
    bytes = r.bytes;
  }
  return { first: first.ms, p50: percentile(samples, 50), p95: percentile(samples, 95), kb: bytes / 1024 };
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/**
 * `ui_grid`: server-side render time of the web monitor's heaviest pages, through the real app with
 * a signed-in session: the grid of 50 runs × 500 tasks (10 groups, all expanded), the DAG list with
 * 1,000 DAGs (the default page of 50, and all 1,000 on one page), and the graph of the 500-task DAG.
 */
export const uiGrid: Scenario = {
  name: 'ui_grid',
  description: 'web pages rendered server-side: grid of 50 runs × 500 tasks, DAG list with 1,000 DAGs (p50 of several renders)',
  async run(ctx: ScenarioContext) {
    const size = ctx.quick ? { runs: 20, groups: 5, perGroup: 20, dags: 200, renders: 5 } : { runs: 50, groups: 10, perGroup: 50, dags: 1000, renders: 15 };
    const tasks = size.groups * size.perGroup;
    const folder = workFolder('ui-grid');
    folder.write('wide.ts', wideDagSource('ui_wide', size.groups, size.perGroup));
    for (let i = 0; i < size.dags - 1; i++) folder.write(`listed/dag_${i}.ts`, listDagSource(i));
    const { engine, close } = await benchEngine(ctx, { dagsFolders: [folder.dir] });
    try {
      const parsed = await engine.parseDags();
      if (parsed.dags !== size.dags || parsed.importErrors > 0) throw new Error(`parsed ${parsed.dags} DAGs with ${parsed.importErrors} import errors`);
      const started = performance.now();
      await inBatches(Array.from({ length: size.runs }, (_, i) => i), 10, (i) =>
        triggerDag(engine.context, 'ui_wide', { runId: `run_${String(i).padStart(3, '0')}`, logicalDate: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000) }),
      );
      await finishRuns(engine, 'ui_wide');
      // Three runs for each listed DAG, so its row shows recent runs.
      const listed = (await engine.db.selectFrom('tributary.dag').select('dag_id').where('dag_id', 'like', 'listed_%').execute()).map((r) => r.dag_id);
      await inBatches(listed, 20, async (dagId) => {
        for (let k = 0; k < 3; k++) await triggerDag(engine.context, dagId, { runId: `r${k}`, logicalDate: new Date(Date.UTC(2024, 0, 1, k)) });
      });
      await sql`UPDATE tributary.dag_run SET state = CASE WHEN id % 7 = 0 THEN 'failed' ELSE 'success' END WHERE dag_id LIKE 'listed_%'`.execute(engine.db);
      ctx.log(`data: ${size.runs} runs × ${tasks} tasks, ${size.dags} DAGs with ${listed.length * 3} runs, in ${Math.round(performance.now() - started)} ms`);

      const app = createWebApp(engine);
      const cookie = await session(engine, app);
      const grid = await renders(app, cookie, `/dags/ui_wide?runs=${size.runs}&open=*`, size.renders, (html) => {
        const cols = html.match(/class="run-col"/g)?.length ?? 0;
        const rows = html.match(/<tr data-task=/g)?.length ?? 0;
        if (cols !== size.runs || rows < tasks) throw new Error(`grid has ${cols} runs and ${rows} rows`);
      });
      const list = await renders(app, cookie, '/', size.renders, (html) => {
        if ((html.match(/class="dag-id"/g)?.length ?? 0) !== 50) throw new Error('DAG list page does not show 50 DAGs');
      });
      const all = await renders(app, cookie, '/?limit=1000', size.renders, (html) => {
        if ((html.match(/class="dag-id"/g)?.length ?? 0) !== Math.min(1000, size.dags)) throw new Error('DAG list does not show every DAG');
      });
      const graph = await renders(app, cookie, '/dags/ui_wide/graph', Math.max(3, Math.floor(size.renders / 3)), (html) => {
        if ((html.match(/<g class="node /g)?.length ?? 0) !== tasks) throw new Error('graph does not draw every task');
      });
      ctx.log(`grid ${grid.kb.toFixed(0)} KiB p50 ${grid.p50.toFixed(1)} ms; list p50 ${list.p50.toFixed(1)} ms, all ${all.p50.toFixed(1)} ms; graph first ${graph.first.toFixed(0)} ms, then ${graph.p50.toFixed(1)} ms`);
      const result = (metric: string, value: number, unit: string): BenchResult => ({ scenario: 'ui_grid', system: 'tributary', metric, value, unit });
      return [
        result('grid_size', size.runs * tasks, 'cells'),
        result('grid_render', grid.p50, 'ms'),
        result('grid_render_p95', grid.p95, 'ms'),
        result('grid_html', grid.kb, 'KiB'),
        result('dag_list_dags', size.dags, 'DAGs'),
        result('dag_list_render', list.p50, 'ms'),
        result('dag_list_render_all', all.p50, 'ms'),
        result('graph_render_first', graph.first, 'ms'),
        result('graph_render', graph.p50, 'ms'),
      ];
    } finally {
      await close();
      folder.remove();
    }
  },
};
