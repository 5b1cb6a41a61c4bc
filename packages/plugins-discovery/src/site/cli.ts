import { parseArgs } from 'node:util';
import { demoFaults } from './faults.js';
import { kingCountyHouses } from './houses.js';
import { DEFAULT_LISTINGS_SITE_PORT } from './plugin.js';
import { startListingsSite } from './server.js';

// `pnpm --filter @tributary/plugins-discovery listings-site [--port 8790] [--limit N] [--page-size 20] [--faults demo|none] [--disallow /path]`
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: String(DEFAULT_LISTINGS_SITE_PORT) },
    host: { type: 'string', default: '127.0.0.1' },
    limit: { type: 'string' },
    'page-size': { type: 'string', default: '20' },
    faults: { type: 'string', default: 'demo' },
    disallow: { type: 'string', multiple: true, default: [] },
  },
});
const houses = kingCountyHouses();
const site = await startListingsSite({
  port: Number(values.port),
  host: values.host,
  pageSize: Number(values['page-size']),
  ...(values.limit ? { limit: Number(values.limit) } : {}),
  faults: values.faults === 'none' ? [] : demoFaults(houses),
  disallow: values.disallow,
});
process.stdout.write(`listings site: ${site.houses.length} listings on ${site.pages} pages at ${site.url}/static/listings and ${site.url}/app/listings (Ctrl-C stops)\n`);
const stop = (): void => void site.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
