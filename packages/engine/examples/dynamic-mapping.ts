import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '@tributary/engine';

/**
 * Dynamic task mapping over an upstream result (Airflow's `fetch.partial(...).expand(county=...)`):
 * `list_counties` decides at run time which counties have new sales, `fetch_sales` becomes one task
 * instance per county it returned — each with the shared `args` and its own `county` — and
 * `summarize` receives the list of their results in map-index order, whichever finished first.
 *
 * Run it: pnpm tributary dags test example_dynamic_mapping --params '{"counties": ["travis", "hays"]}'
 * then pnpm tributary tasks logs example_dynamic_mapping <run> fetch_sales --map-index 1
 */
const mapping = dag({
  id: 'example_dynamic_mapping',
  description: 'One task instance per county found at run time, then a summary of all of them',
  tags: ['example'],
  params: {
    type: 'object',
    properties: {
      counties: { type: 'array', items: { type: 'string' }, default: ['king', 'pierce', 'snohomish', 'kitsap'], description: 'counties the (simulated) feed reports sales for' },
    },
  },
});

// An empty list would skip fetch_sales and summarize (nothing to map over).
const counties = mapping.task('list_counties', ({ params, log }) => {
  log.info({ counties: params.counties }, 'counties with new sales');
  return params.counties;
});

const sales = mapping.task(
  'fetch_sales',
  // `args`: the same for every instance; `expand`: one instance per element of list_counties' result.
  { args: { minPrice: 250_000, currency: 'USD' }, expand: { county: counties }, maxActiveInstancesPerRun: 3 },
  async ({ args, mapIndex, signal, log }) => {
    // County sites answer at different speeds: results do not arrive in order.
    await sleep(20 + (args.county.length % 4) * 30, undefined, { signal });
    const count = (args.county.length * 7) % 11;
    log.info({ county: args.county, mapIndex, count }, 'sales fetched');
    return { county: args.county, sales: count, minPrice: args.minPrice, currency: args.currency };
  },
);

mapping.task('summarize', { upstream: [sales] }, ({ upstream, log }) => {
  // One result per instance, in map-index order (the order list_counties returned).
  const total = upstream.fetch_sales.reduce((sum, r) => sum + r.sales, 0);
  log.info({ counties: upstream.fetch_sales.length, total }, 'summary written');
  return { counties: upstream.fetch_sales.map((r) => r.county), total };
});

export default mapping;
