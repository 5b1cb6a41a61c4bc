import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../src/web/app.js';
import { serveWeb, type WebServer } from '../src/web/server.js';
import { createUser } from '../src/service/users.js';
import { FIXTURE_DAGS, PACKAGE_DIR, setupEngine, tempDagFolder, type TestSetup } from './helpers.js';
import { runToEnd } from './support/web-dags.js';

/** Where the screenshots go: `artifacts/screenshots/` at the repository root (gitignored). */
const SCREENSHOTS = join(PACKAGE_DIR, '../../artifacts/screenshots');

const journey = tempDagFolder({
  'journey.ts': `import { dag } from '@tributary/engine';

/** Scrape a county; \`fetch\` fails on its first try, so an operator clears it. */
const journey = dag({
  id: 'journey',
  description: 'Scrape, fetch and report listings of one county',
  tags: ['browser'],
  params: {
    type: 'object',
    properties: {
      county: { type: 'string', pattern: '^[a-z_]+$', description: 'County slug, lower case' },
      limit: { type: 'integer', minimum: 1, default: 10 },
    },
    required: ['county'],
  },
});
const scrape = journey.task('scrape', ({ params, log }) => {
  log.info('scraping ' + params.county);
  return { listings: Number(params.limit) };
});
const fetchPages = journey.task('fetch', { upstream: [scrape] }, ({ tryNumber, log, upstream }) => {
  log.info('fetching ' + upstream.scrape.listings + ' listing pages');
  if (tryNumber === 1) {
    log.warn('the listing site answered 503');
    throw new Error('fails the first time');
  }
  log.info('fetched every page');
  return upstream.scrape.listings;
});
journey.task('report', { upstream: [fetchPages] }, ({ upstream }) => ({ pages: upstream.fetch }));
export default journey;
`,
});

let setup: TestSetup;
let server: WebServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  setup = await setupEngine({ dagsFolders: [FIXTURE_DAGS, journey.dir] });
  await setup.engine.parseDags();
  setup.engine.startScheduler();
  await setup.engine.startWorker();
  await createUser(setup.engine.db, { username: 'ana', role: 'operator', password: 'ana-password-1' }, { name: 'test', origin: 'test' });
  // Some history for the screenshots: runs of a DAG with groups and branches, and a mapped DAG.
  await runToEnd(setup.engine, 'grouped');
  await runToEnd(setup.engine, 'grouped', { params: { mode: 'slow' } });
  await runToEnd(setup.engine, 'grouped');
  await runToEnd(setup.engine, 'mapped_literal');
  server = await serveWeb(createWebApp(setup.engine), { port: 0, hostname: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Script errors and blocked resources (a CSP violation shows as a console error) fail the tests.
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // A form answered 400 with its messages inline is expected; the browser still logs the status.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 400 \(Bad Request\)/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500 || response.status() === 404) problems.push(`${response.status()} ${response.url()}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await setup?.close();
  journey.remove();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const url = (path: string) => `${server.url.replace('localhost', '127.0.0.1')}${path}`;

describe('the web monitor in Chromium', () => {
  it('signs in, triggers with params (an invalid one shown inline), watches the run fail in the grid, reads the failed log, clears it and sees it succeed', async () => {
    await page.goto(url('/'));
    await page.fill('#login-username', 'ana');
    await page.fill('#login-password', 'ana-password-1');
    await Promise.all([page.waitForURL(url('/')), page.click('#login button[type=submit]')]);
    await page.waitForSelector('a.dag-id[href="/dags/journey"]');
    await shot('dag-list');

    // Trigger from the DAG page, first with a county the schema rejects.
    await page.click('a.dag-id[href="/dags/journey"]');
    await page.click('a.btn.primary[href="/dags/journey/trigger"]');
    await page.fill('#f-county', 'King County');
    await page.fill('#f-limit', '3');
    await Promise.all([page.waitForLoadState('load'), page.click('.trigger-form button[type=submit]')]);
    const error = page.locator('[data-param="county"] .field-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('county must match pattern "^[a-z_]+$"');
    expect(await page.inputValue('#f-county')).toBe('King County');
    await shot('trigger-invalid');

    await page.fill('#f-county', 'king');
    await Promise.all([page.waitForURL(url('/dags/journey')), page.click('.trigger-form button[type=submit]')]);
    expect(await page.locator('.notice.ok').textContent()).toMatch(/^Triggered run manual__/);
    // The grid refreshes itself until the run is over: fetch fails, report never runs.
    await page.waitForSelector('#grid[data-active="false"] th.run-col a .bar.s-failed', { timeout: 30_000 });
    await page.waitForSelector('tr[data-task="fetch"] td.s-failed');
    await page.waitForSelector('tr[data-task="report"] td.s-upstream_failed');

    // A click on the failed cell opens that task instance with its log.
    await Promise.all([page.waitForURL(/\/tasks\/fetch$/), page.click('tr[data-task="fetch"] td.s-failed')]);
    await page.waitForSelector('#log .log-line.lvl-error');
    const log = await page.locator('#log').textContent();
    expect(log).toContain('the listing site answered 503');
    expect(log).toContain('fails the first time');
    await shot('task-instance-failed');

    // Clear it with its downstream task, confirming in the dialog.
    await page.click('a.btn:has-text("Clear…")');
    await page.waitForSelector('dialog#dialog[open] #confirm-form');
    expect(await page.locator('dialog .affected').textContent()).toMatch(/fetch.*failed.*report.*upstream failed/s);
    await shot('clear-dialog');
    await Promise.all([page.waitForURL(/\/tasks\/fetch$/), page.click('dialog #confirm-submit')]);
    expect(await page.locator('.notice.ok').textContent()).toMatch(/^Cleared 2 task instances/);
    // The page follows the new try: its state and its log arrive without reloading.
    await page.waitForSelector('#ti-live[data-state="success"]', { timeout: 30_000 });
    await page.waitForSelector('#log .log-line:has-text("fetched every page")', { timeout: 30_000 });

    await page.goto(url('/dags/journey'));
    await page.waitForSelector('#grid[data-active="false"] th.run-col a .bar.s-success', { timeout: 30_000 });
    await page.waitForSelector('tr[data-task="report"] td.s-success');
    await shot('grid-after-clear');
    expect(problems).toEqual([]);
  }, 120_000);

  it('shows the grid with groups and mapped tasks, the graph, a run, its gantt and the audit log (screenshots)', async () => {
    await page.goto(url('/dags/grouped?open=*'));
    await page.waitForSelector('tr[data-task="transform.clean.trim"]:not([hidden]) td.s-success');
    await shot('grid');
    // Collapsing a group swaps the grid in place (htmx) and keeps it collapsed in the URL.
    await Promise.all([page.waitForURL(/open=/), page.click('tr[data-task="transform"] a.toggle')]);
    await page.waitForSelector('tr[data-task="transform.clean.trim"][hidden]', { state: 'attached' });

    await page.goto(url('/dags/grouped/graph'));
    await page.waitForSelector('svg.graph g.node.s-success[data-task="end"]');
    expect(await page.locator('svg.graph g.node').count()).toBe(11);
    await shot('graph');

    await page.goto(url('/dags/mapped_literal'));
    await page.waitForSelector('tr[data-task="multiply"] .mapped');
    await page.click('#grid th.run-col a');
    await page.waitForSelector('#run-live');
    await shot('run');
    await page.click('nav.tabs a:has-text("Gantt")');
    await page.waitForSelector('.gantt-bar.s-success');
    await shot('gantt');

    await page.goto(url('/audit-log'));
    await page.waitForSelector('table.audit a.pill:has-text("clear")');
    await shot('audit-log');
    expect(problems).toEqual([]);
  }, 60_000);
});
