import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '@tributary/engine';

/**
 * Concurrency controls: a DAG-wide cap, a mapped task limited to two instances at a time per run
 * (the others wait `scheduled` without holding back the rest of the DAG), a task allowed one
 * instance across all runs, a task taking two pool slots, and priorities by weight rule.
 *
 * Run it: pnpm tributary dags test example_concurrency
 * Pools other than default_pool are created with: pnpm tributary pools set <name> <slots>
 */
const limits = dag({
  id: 'example_concurrency',
  description: 'Pools, pool slots, per-task limits and priority weights',
  tags: ['example'],
  maxActiveTasks: 6,
});

const counties = ['king', 'pierce', 'snohomish', 'kitsap', 'thurston', 'skagit'];

// The scraper is polite to the county sites: two requests at a time per run, whatever else runs.
const scraped = limits.task(
  'scrape',
  { expand: { county: counties }, maxActiveInstancesPerRun: 2, priorityWeight: 10, weightRule: 'absolute' },
  async ({ args, signal }) => {
    await sleep(50, undefined, { signal });
    return { county: args.county, listings: args.county.length * 10 };
  },
);

// Refreshing the shared model cache must never run twice at once, even across runs.
limits.task('refresh_cache', { maxActiveInstances: 1 }, async ({ signal }) => {
  await sleep(30, undefined, { signal });
});

// A heavy task occupies two slots of its pool.
const scored = limits.task('score', { upstream: [scraped], poolSlots: 2 }, ({ upstream }) =>
  upstream.scrape.reduce((sum, r) => sum + r.listings, 0),
);

limits.task('report', { upstream: [scored], priorityWeight: 5 }, ({ upstream, log }) => {
  log.info({ listings: upstream.score }, 'report written');
  return upstream.score;
});

export default limits;
