import type { Hono } from 'hono';
import type { Tributary } from '../../src/engine.js';
import { triggerDag, waitForRun } from '../../src/service/runs.js';
import { createWebApp } from '../../src/web/app.js';
import type { WebEnv } from '../../src/web/types.js';
import { FIXTURE_DAGS, setupEngine, tempDagFolder, type TestSetup } from '../helpers.js';
import { seedUsers, WebClient } from './web-client.js';

/**
 * DAG files for the web page tests: text that must be escaped everywhere it shows (description,
 * param description and default, log line, result), a secret-looking argument, a mapped task, a
 * paused daily DAG to backfill, and a file that fails to load with markup in its error.
 */
export function webTestDags() {
  return tempDagFolder({
    'ui.ts': `import { dag } from '@tributary/engine';

export const uiXss = dag({
  id: 'ui_xss',
  description: '<script>alert("dag")</script> scores deals',
  tags: ['ui', 'scoring'],
  params: { type: 'object', properties: { note: { type: 'string', description: '<i>free text</i>', default: '<u>hi</u>' } } },
});
uiXss.task('shout', { args: { api_password: 'hunter2', who: 'ana' } }, ({ log, params }) => {
  log.info('<img src=x onerror=alert(1)> ' + String(params.note));
  return { html: '<script>alert("xcom")</script>' };
});

export const uiMapped = dag({ id: 'ui_mapped' });
uiMapped.task('square', { args: { power: 2 }, expand: { n: [1, 2, 3] } }, ({ args }) => Number(args.n) ** Number(args.power));

export const uiBackfill = dag({ id: 'ui_backfill', schedule: '@daily', startDate: '2024-01-01', pausedOnCreation: true });
uiBackfill.task('work', () => 'ok');
`,
    'broken.ts': `throw new Error('<b>broken</b> on purpose');\n`,
  });
}

/** Trigger a run and wait for it to finish; resolves with its run id. */
export async function runToEnd(engine: Tributary, dagId: string, options: { params?: Record<string, unknown>; runId?: string } = {}): Promise<string> {
  const run = await triggerDag(engine.context, dagId, { ...options, triggeredBy: 'test' });
  await waitForRun(engine.db, run.id, { timeoutMs: 30_000 });
  return run.run_id;
}

/**
 * An engine (scheduler and worker running) on the fixture DAGs and {@link webTestDags}, its web app,
 * and a signed-in viewer and operator. `close()` stops everything and removes the DAG files.
 */
export async function webPageSetup(): Promise<{ setup: TestSetup; app: Hono<WebEnv>; viewer: WebClient; operator: WebClient; close(): Promise<void> }> {
  const extra = webTestDags();
  const setup = await setupEngine({ dagsFolders: [FIXTURE_DAGS, extra.dir] });
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
  const app = createWebApp(setup.engine);
  const users = await seedUsers(setup.engine);
  const viewer = new WebClient(app);
  await viewer.login(users.viewer.username, users.viewer.password);
  const operator = new WebClient(app);
  await operator.login(users.operator.username, users.operator.password);
  return {
    setup,
    app,
    viewer,
    operator,
    close: async () => {
      await setup.close();
      extra.remove();
    },
  };
}
