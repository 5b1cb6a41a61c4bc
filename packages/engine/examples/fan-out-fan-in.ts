import { dag } from '@tributary/engine';

/**
 * One task per county in parallel, then a summary of all of them. Higher priority weights run
 * first when slots are scarce; every county task takes a slot of the `default_pool`.
 *
 * Run it: pnpm tributary dags test example_fan_out_fan_in
 */
const counties = ['king_wa', 'pierce_wa', 'snohomish_wa', 'kitsap_wa'] as const;

const fan = dag({
  id: 'example_fan_out_fan_in',
  description: 'Parallel tasks per county joined by a summary',
  tags: ['example'],
  maxActiveTasks: 8,
});

const start = fan.task('start', ({ logicalDate }) => ({ startedAt: logicalDate.toISOString() }));

const perCounty = counties.map((county, index) =>
  fan.task(`count_${county}`, { upstream: [start], priorityWeight: counties.length - index }, () => ({
    county,
    listings: 100 * (index + 1),
  })),
);

fan.task('summary', { upstream: perCounty }, ({ upstream, log }) => {
  const results = Object.values(upstream) as { county: string; listings: number }[];
  const total = results.reduce((sum, r) => sum + r.listings, 0);
  log.info({ counties: results.length, total }, 'all counties counted');
  return { total };
});

export default fan;
