import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pluginRoutesHandler, runPluginHealthChecks } from '@tributary/engine';
import { runDagToCompletion } from '@tributary/engine/testing';
import { startListingsSite, type ListingsSite } from '../src/site/server.js';
import { REPO_DIR, setupDiscovery, type DiscoverySetup } from './support.js';

/** Each task's state and, for failed ones, the last try's error message. */
async function taskOutcomes(setup: DiscoverySetup, runPk: number): Promise<Record<string, { state: string | null; tries: number; error?: string }>> {
  const rows = await setup.engine.db
    .selectFrom('tributary.task_instance as t')
    .leftJoin('tributary.task_try as tt', (join) => join.onRef('tt.ti_id', '=', 't.id').onRef('tt.try_number', '=', 't.try_number'))
    .select(['t.task_id', 't.state', 't.try_number', sql<string | null>`tt.error->>'message'`.as('message')])
    .where('t.run_pk', '=', runPk)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.task_id, { state: r.state, tries: r.try_number, ...(r.message ? { error: r.message } : {}) }]));
}

describe('dags/discovery_offmarket.ts run by the engine', () => {
  let setup: DiscoverySetup;
  let site: ListingsSite;
  beforeAll(async () => {
    setup = await setupDiscovery({ projectDir: REPO_DIR, dagsFolders: [join(REPO_DIR, 'dags')] });
    site = await startListingsSite({ limit: 120, pageSize: 20 });
  });
  afterAll(async () => {
    await site?.close();
    await setup?.close();
  });

  it('validates the king_wa config, scrapes the site, validates the data and reports metrics', async () => {
    const result = await runDagToCompletion(setup.engine, 'discovery_offmarket', { params: { county: 'king_wa', baseUrl: `${site.url}/static/` }, timeoutMs: 180_000 });
    const tasks = await taskOutcomes(setup, result.run.id);
    expect(tasks).toEqual({
      validate_config: { state: 'success', tries: 1 },
      scrape: { state: 'success', tries: 1 },
      validate_data: { state: 'success', tries: 1 },
      send_metrics: { state: 'success', tries: 1 },
    });
    expect(result.state).toBe('success');
    const metrics = await setup.engine.db.selectFrom('tributary.xcom').select('value').where('run_pk', '=', result.run.id).where('task_id', '=', 'send_metrics').executeTakeFirstOrThrow();
    expect(metrics.value).toMatchObject({ county: 'king_wa', config: 'king_wa', listings: 120, newListings: 120, priceChanges: 0, rejected: 0, failedPages: 0 });
    const { n } = await setup.db.selectFrom('discovery.prospect_queue').select(sql<number>`count(*)::int`.as('n')).where('county', '=', 'king_wa').executeTakeFirstOrThrow();
    expect(n).toBe(120);
    const scrape = await setup.db.selectFrom('discovery.scrape_run').select(['dag_id', 'run_id', 'task_id', 'state', 'metrics']).executeTakeFirstOrThrow();
    expect(scrape).toMatchObject({ dag_id: 'discovery_offmarket', run_id: result.run.run_id, task_id: 'scrape', state: 'success', metrics: { ok: true, listings: 120 } });
  });

  it('serves the scrapes, listings and a summary under /plugins/discovery/, and reports its health', async () => {
    const handler = pluginRoutesHandler(setup.engine.plugins);
    const get = async (path: string) => (await handler(new Request(`http://localhost/plugins/discovery/${path}`))).json() as Promise<Record<string, unknown>[]>;
    const [scrape] = await get('scrapes?config=king_wa');
    expect(scrape).toMatchObject({ config: 'king_wa', state: 'success', metrics: { listings: 120 } });
    expect(await get('prospects?county=king_wa&limit=5')).toHaveLength(5);
    expect(await get('summary')).toEqual([{ county: 'king_wa', status: 'new', listings: 120, last_seen_at: expect.any(String) }]);
    expect(await get('rejected')).toEqual([]);
    const missing = await handler(new Request('http://localhost/plugins/discovery/nope'));
    expect(missing.status).toBe(404);
    const health = await runPluginHealthChecks(setup.engine.plugins);
    expect(health).toContainEqual(expect.objectContaining({ check: 'discovery.tables', ok: true, detail: '120 listings in discovery.prospect_queue' }));
  });

  it('fails at validate_config for an unknown county, naming the configs there, and scrapes nothing', async () => {
    const result = await runDagToCompletion(setup.engine, 'discovery_offmarket', { params: { county: 'kings_wa' } });
    expect(result.state).toBe('failed');
    const tasks = await taskOutcomes(setup, result.run.id);
    expect(tasks.validate_config).toEqual({
      state: 'failed',
      tries: 1,
      error: "county 'kings_wa': no config file dags/config/counties/kings_wa.yaml (configs there: king_wa, king_wa_browser)",
    });
    expect(tasks.scrape!.state).toBe('upstream_failed');
  });
});

describe('a scrape task against a site that is down', () => {
  let setup: DiscoverySetup;
  let site: ListingsSite;
  beforeAll(async () => {
    setup = await setupDiscovery();
    site = await startListingsSite({ limit: 20, pageSize: 20 });
  });
  afterAll(async () => {
    await site?.close();
    await setup?.close();
  });

  it('retries each request with backoff, then the task, then fails the run with a clear error', async () => {
    site.setDown(true);
    const result = await runDagToCompletion(setup.engine, 'discovery_site_down', { params: { county: 'fragile', baseUrl: `${site.url}/static/` } });
    expect(result.state).toBe('failed');
    const tasks = await taskOutcomes(setup, result.run.id);
    expect(tasks.scrape).toMatchObject({ state: 'failed', tries: 2 });
    expect(tasks.scrape!.error).toMatch(/^county 'fragile': the site could not be read: http:\/\/127\.0\.0\.1:\d+\/static\/listings\?page=1 failed after 2 retries: .*503/);
    // Two task tries, each trying the first page three times.
    expect(site.requests.filter((r) => r.kind === 'list').map((r) => r.status)).toEqual(Array(6).fill(503));
    const scrapes = await setup.db.selectFrom('discovery.scrape_run').select(['state', 'try_number']).orderBy('id').execute();
    expect(scrapes).toEqual([
      { state: 'failed', try_number: 1 },
      { state: 'failed', try_number: 2 },
    ]);
  });
});
