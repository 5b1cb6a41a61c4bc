import type { Hono } from 'hono';
import { safeNext } from '../auth/routes.js';
import type { WebEnv } from '../types.js';
import { pageAccess, pageSecurity } from './access.js';
import { cancelConfirm, cancelSubmit, clearConfirm, clearSubmit, markConfirm, markSubmit, pauseConfirm, pauseSubmit } from './actions.js';
import { auditPage, dagAuditPage } from './audit.js';
import { connectionCreateSubmit, connectionDeleteConfirm, connectionDeleteSubmit, connectionEditPage, connectionEditSubmit, connectionNewPage, connectionsPage } from './connections.js';
import { poolCreateSubmit, poolDeleteConfirm, poolDeleteSubmit, poolEditPage, poolEditSubmit, poolNewPage, poolsPage } from './pools.js';
import {
  userDeleteConfirm,
  userDeleteSubmit,
  userDisableConfirm,
  userDisableSubmit,
  userPasswordConfirm,
  userPasswordSubmit,
  userRoleSubmit,
  userTokenRevokeConfirm,
  userTokenRevokeSubmit,
  userTokenSubmit,
} from './user-actions.js';
import { userCreateSubmit, userNewPage, userPage, usersPage } from './users.js';
import { variableCreateSubmit, variableDeleteConfirm, variableDeleteSubmit, variableEditPage, variableEditSubmit, variableNewPage, variablesPage } from './variables.js';
import { backfillCancelConfirm, backfillCancelSubmit, backfillFormPage, backfillsPage, backfillSubmit } from './backfills.js';
import { dagListPage } from './dag-list.js';
import { codePage, detailsPage, versionsPage } from './dag-views.js';
import { graphPage } from './graph.js';
import { gridPage } from './grid.js';
import { loginPage } from './login.js';
import { ganttPage, runPage } from './run.js';
import { dagRunsPage, runsPage } from './runs-list.js';
import { taskInstancePage } from './task-instance.js';
import { taskLogFragment } from './task-log.js';
import { triggerPage, triggerSubmit } from './trigger.js';

/**
 * Register the HTML monitor on the web app: the sign-in page, and every page and action (static
 * assets are registered apart, before sign-in is looked up: see `registerAssets`). Viewers read
 * everything but users; actions on runs (trigger, clear, mark, cancel, pause, backfill) need
 * operator, managing users, pools, variables and connections needs admin. Every action passes the
 * CSRF check (deletes and other irreversible ones after a confirmation step) and goes through the
 * same service functions as the CLI and REST API, each leaving an audit entry.
 */
export function registerPages(app: Hono<WebEnv>): void {
  app.use('*', async (c, next) => (c.req.path.startsWith('/api/') ? next() : pageSecurity()(c, next)));
  app.get('/login', (c) => c.html(loginPage(c, { next: safeNext(c.req.query('next')) })));
  app.get('/', (c) => (c.get('user') ? dagListPage(c) : c.html(loginPage(c))));

  const viewer = pageAccess('viewer');
  const operator = pageAccess('operator');
  const admin = pageAccess('admin');
  for (const path of ['/runs', '/pools', '/variables', '/connections', '/audit-log', '/backfills', '/dags/*']) app.use(path, viewer);
  app.use('/backfills/*', viewer);

  // Actions: operators only (the viewer check above runs first and sends anonymous visitors to sign in).
  for (const path of ['/dags/:dagId/trigger', '/dags/:dagId/backfill', '/dags/:dagId/pause', '/dags/:dagId/runs/:runId/clear', '/dags/:dagId/runs/:runId/mark', '/dags/:dagId/runs/:runId/cancel', '/backfills/:id/cancel']) {
    app.use(path, operator);
  }

  // Managing users, pools, variables and connections: admins only (the lists above stay readable).
  for (const path of ['/users', '/users/*', '/pools/new', '/pools/:name/*', '/variables/new', '/variables/:key/*', '/connections/new', '/connections/:connId/*']) {
    app.use(path, viewer, admin);
  }

  app.get('/runs', runsPage);
  registerAdminPages(app);
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

/** Pools, variables and connections (read by viewers, changed by admins) and users (admins). */
function registerAdminPages(app: Hono<WebEnv>): void {
  app.get('/pools', poolsPage);
  app.get('/pools/new', poolNewPage);
  app.post('/pools/new', poolCreateSubmit);
  app.get('/pools/:name/edit', poolEditPage);
  app.post('/pools/:name/edit', poolEditSubmit);
  app.get('/pools/:name/delete', poolDeleteConfirm);
  app.post('/pools/:name/delete', poolDeleteSubmit);

  app.get('/variables', variablesPage);
  app.get('/variables/new', variableNewPage);
  app.post('/variables/new', variableCreateSubmit);
  app.get('/variables/:key/edit', variableEditPage);
  app.post('/variables/:key/edit', variableEditSubmit);
  app.get('/variables/:key/delete', variableDeleteConfirm);
  app.post('/variables/:key/delete', variableDeleteSubmit);

  app.get('/connections', connectionsPage);
  app.get('/connections/new', connectionNewPage);
  app.post('/connections/new', connectionCreateSubmit);
  app.get('/connections/:connId/edit', connectionEditPage);
  app.post('/connections/:connId/edit', connectionEditSubmit);
  app.get('/connections/:connId/delete', connectionDeleteConfirm);
  app.post('/connections/:connId/delete', connectionDeleteSubmit);

  app.get('/users', usersPage);
  app.get('/users/new', userNewPage);
  app.post('/users/new', userCreateSubmit);
  app.get('/users/:username', userPage);
  app.post('/users/:username/role', userRoleSubmit);
  app.get('/users/:username/disable', userDisableConfirm);
  app.post('/users/:username/disable', userDisableSubmit);
  app.get('/users/:username/password', userPasswordConfirm);
  app.post('/users/:username/password', userPasswordSubmit);
  app.post('/users/:username/tokens', userTokenSubmit);
  app.get('/users/:username/tokens/:id/revoke', userTokenRevokeConfirm);
  app.post('/users/:username/tokens/:id/revoke', userTokenRevokeSubmit);
  app.get('/users/:username/delete', userDeleteConfirm);
  app.post('/users/:username/delete', userDeleteSubmit);
}
