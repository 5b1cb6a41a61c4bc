import { definePlugin } from '@tributary/engine';
import { demoFaults } from './faults.js';
import { kingCountyHouses } from './houses.js';
import { startListingsSite } from './server.js';

/** Port of the demo listings site: `$LISTINGS_SITE_PORT`, else 8790 (what `dags/config/counties/king_wa*.yaml` point at). */
export const DEFAULT_LISTINGS_SITE_PORT = 8790;

/** How the demo site's service is configured, from the environment. */
export function listingsSiteEnv(env: NodeJS.ProcessEnv = process.env): { port: number; host: string; pageSize: number; faults: 'demo' | 'none' } {
  const port = Number(env.LISTINGS_SITE_PORT || DEFAULT_LISTINGS_SITE_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`LISTINGS_SITE_PORT: expected a port number, got '${env.LISTINGS_SITE_PORT}'`);
  const pageSize = Number(env.LISTINGS_SITE_PAGE_SIZE || 20);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`LISTINGS_SITE_PAGE_SIZE: expected a positive integer, got '${env.LISTINGS_SITE_PAGE_SIZE}'`);
  const faults = env.LISTINGS_SITE_FAULTS || 'demo';
  if (faults !== 'demo' && faults !== 'none') throw new Error(`LISTINGS_SITE_FAULTS: expected 'demo' or 'none', got '${faults}'`);
  return { port, host: env.LISTINGS_SITE_HOST || '127.0.0.1', pageSize, faults };
}

/**
 * The demo's local listings site as a plugin with one service (`listings-site.site`), which
 * `tributary standalone` starts: list it in `tributary.config.json`'s `plugins` next to
 * `@tributary/plugins-discovery` and the discovery DAG scrapes it with no internet. Configured by
 * `LISTINGS_SITE_PORT` (8790), `LISTINGS_SITE_HOST` (127.0.0.1), `LISTINGS_SITE_PAGE_SIZE` (20) and
 * `LISTINGS_SITE_FAULTS` (`demo`: one listing in 400 published with a data error; `none`).
 */
export const listingsSitePlugin = definePlugin({
  name: 'listings-site',
  version: '0.1.0',
  package: '@tributary/plugins-discovery/listings-site',
  operators: {},
  services: {
    site: {
      description: 'the King County sales published as a listings site (static and JavaScript variants) for the discovery demo',
      start: async (runtime) => {
        const env = listingsSiteEnv();
        const houses = kingCountyHouses();
        const site = await startListingsSite({ port: env.port, host: env.host, pageSize: env.pageSize, faults: env.faults === 'demo' ? demoFaults(houses) : [] });
        runtime.log.info({ url: site.url, listings: site.houses.length, pages: site.pages }, `listings site: ${site.url}/static/listings and ${site.url}/app/listings`);
        return { url: site.url, stop: () => site.close() };
      },
    },
  },
});
