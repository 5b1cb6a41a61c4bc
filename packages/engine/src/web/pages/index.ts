import type { Hono } from 'hono';
import { safeNext } from '../auth/routes.js';
import type { WebEnv } from '../types.js';
import { pageAccess, pageSecurity } from './access.js';
import { cancelConfirm, cancelSubmit, clearConfirm, clearSubmit, markConfirm, markSubmit, pauseConfirm, pauseSubmit } from './actions.js';
import { auditPage, dagAuditPage } from './audit.js';
import { backfillCancelConfirm, backfillCancelSubmit, backfillFormPage, backfillsPage, backfillSubmit } from './backfills.js';
import { dagListPage } from './dag-list.js';
import { codePage, detailsPage, versionsPage } from './dag-views.js';
import { graphPage } from './graph.js';
import { gridPage } from './grid.js';
import { loginPage } from './login.js';
import { connectionsPage, poolsPage, variablesPage } from './resources.js';
import { ganttPage, runPage } from './run.js';
import { dagRunsPage, runsPage } from './runs-list.js';
import { taskInstancePage } from './task-instance.js';
import { taskLogFragment } from './task-log.js';
import { triggerPage, triggerSubmit } from './trigger.js';

/**
 * Register the HTML monitor on the web app: the sign-in page, and every page and action (static
 * assets are registered apart, before sign-in is looked up: see `registerAssets`). Viewers read everything; actions (trigger, clear, mark, cancel, pause, backfill) need
 * operator and go through a confirmation step, the CSRF check and the same service functions as
 * the CLI and REST API, each leaving an audit entry.
 */
export function registerPages(app: Hono<WebEnv>): void {
  app.use('*', async (c, next) => (c.req.path.startsWith('/api/') ? next() : pageSecurity()(c, next)));
  app.get('/login', (c) => c.html(loginPage(c, { next: safeNext(c.req.query('next')) })));
  app.get('/', (c) => (c.get('user') ? dagListPage(c) : c.html(loginPage(c))));

  const viewer = pageAccess('viewer');
  const operator = pageAccess('operator');
  for (const path of ['/runs', '/pools', '/variables', '/connections', '/audit-log', '/backfills', '/dags/*']) app.use(path, viewer);
  app.use('/backfills/*', viewer);

  // Actions: operators only (the viewer check above runs first and sends anonymous visitors to sign in).
  for (const path of ['/dags/:dagId/trigger', '/dags/:dagId/backfill', '/dags/:dagId/pause', '/dags/:dagId/runs/:runId/clear', '/dags/:dagId/runs/:runId/mark', '/dags/:dagId/runs/:runId/cancel', '/backfills/:id/cancel']) {
    app.use(path, operator);
  }

  app.get('/runs', runsPage);
  app.get('/pools', poolsPage);
  app.get('/variables', variablesPage);
  app.get('/connections', connectionsPage);
  app.get('/audit-log', auditPage);
  app.get('/backfills', backfillsPage);
  app.get('/backfills/:id/cancel', backfillCancelConfirm);
  app.post('/backfills/:id/cancel', backfillCancelSubmit);

  app.get('/dags/:dagId', gridPage);
  app.get('/dags/:dagId/graph', graphPage);
  app.get('/dags/:dagId/runs', dagRunsPage);
  app.get('/dags/:dagId/code', codePage);
  app.get('/dags/:dagId/versions', versionsPage);
  app.get('/dags/:dagId/details', detailsPage);
  app.get('/dags/:dagId/audit', dagAuditPage);
  app.get('/dags/:dagId/trigger', triggerPage);
  app.post('/dags/:dagId/trigger', triggerSubmit);
  app.get('/dags/:dagId/backfill', backfillFormPage);
  app.post('/dags/:dagId/backfill', backfillSubmit);
  app.get('/dags/:dagId/pause', pauseConfirm);
  app.post('/dags/:dagId/pause', pauseSubmit);
  app.get('/dags/:dagId/runs/:runId', runPage);
  app.get('/dags/:dagId/runs/:runId/gantt', ganttPage);
  app.get('/dags/:dagId/runs/:runId/clear', clearConfirm);
  app.post('/dags/:dagId/runs/:runId/clear', clearSubmit);
  app.get('/dags/:dagId/runs/:runId/mark', markConfirm);
  app.post('/dags/:dagId/runs/:runId/mark', markSubmit);
  app.get('/dags/:dagId/runs/:runId/cancel', cancelConfirm);
  app.post('/dags/:dagId/runs/:runId/cancel', cancelSubmit);
  app.get('/dags/:dagId/runs/:runId/tasks/:taskId', taskInstancePage);
  app.get('/dags/:dagId/runs/:runId/tasks/:taskId/log', taskLogFragment);
}
