import type { Tributary } from '../../src/engine.js';
import { triggerDag, waitForRun } from '../../src/service/runs.js';
import { tempDagFolder } from '../helpers.js';

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
