import { sql } from 'kysely';
import type { PluginRoutes, PluginRuntime } from '@tributary/engine';
import { listScrapeRuns } from './store/scrape-runs.js';
import type { DiscoveryTables } from './store/tables.js';

const PREFIX = '/plugins/discovery';

function limitOf(url: URL, fallback: number): number {
  const n = Number(url.searchParams.get('limit') ?? fallback);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 500) : fallback;
}

/**
 * The discovery plugin's read-only JSON routes, under `/plugins/discovery/`:
 * `scrapes` (latest scrapes with their stats and metrics; `?config=`), `prospects` (newest
 * listings; `?county=`, `?status=`), `rejected` (latest rejections with reasons; `?county=`),
 * and `summary` (listings per county and status). `?limit=` caps a list (default 50, at most 500).
 */
export function discoveryRoutes(runtime: PluginRuntime): PluginRoutes {
  return {
    async fetch(request) {
      const url = new URL(request.url);
      const path = url.pathname.replace(/\/+$/, '');
      if (request.method !== 'GET') return Response.json({ error: 'only GET is served here' }, { status: 405 });
      const db = runtime.database<DiscoveryTables>();
      const county = url.searchParams.get('county');
      if (path === `${PREFIX}/scrapes`) {
        const config = url.searchParams.get('config');
        return Response.json(await listScrapeRuns(db, { ...(config ? { config } : {}), limit: limitOf(url, 50) }));
      }
      if (path === `${PREFIX}/prospects`) {
        let query = db
          .selectFrom('discovery.prospect_queue')
          .select(['id', 'source', 'source_id', 'county', 'address', 'city', 'state', 'zip', sql<number>`price::float8`.as('price'), 'beds', sql<number | null>`baths::float8`.as('baths'), 'living_area_sqft', 'year_built', 'listing_url', 'status', 'first_seen_at', 'last_seen_at', 'price_changed_at']);
        if (county) query = query.where('county', '=', county);
        const status = url.searchParams.get('status');
        if (status) query = query.where('status', '=', status);
        return Response.json(await query.orderBy('first_seen_at', 'desc').orderBy('id', 'desc').limit(limitOf(url, 50)).execute());
      }
      if (path === `${PREFIX}/rejected`) {
        let query = db.selectFrom('discovery.rejected_listing').select(['id', 'source', 'county', 'listing_url', 'source_id', 'reasons', 'times_rejected', 'first_rejected_at', 'last_rejected_at']);
        if (county) query = query.where('county', '=', county);
        return Response.json(await query.orderBy('last_rejected_at', 'desc').orderBy('id', 'desc').limit(limitOf(url, 50)).execute());
      }
      if (path === `${PREFIX}/summary`) {
        const rows = await db
          .selectFrom('discovery.prospect_queue')
          .select(['county', 'status', sql<number>`count(*)::int`.as('listings'), sql<Date>`max(last_seen_at)`.as('last_seen_at')])
          .groupBy(['county', 'status'])
          .orderBy('county')
          .orderBy('status')
          .execute();
        return Response.json(rows);
      }
      return Response.json({ error: `no route ${url.pathname}`, routes: ['scrapes', 'prospects', 'rejected', 'summary'].map((r) => `${PREFIX}/${r}`) }, { status: 404 });
    },
  };
}
