import { dag } from '@tributary/engine';

/**
 * Control flow in a daily listings refresh:
 * - a short-circuit stops the run early when the feed has nothing new (every task below it is skipped),
 * - a branch picks a full reload on the first of the month (or when asked) and an incremental load
 *   otherwise; the task not chosen is skipped and the join runs after whichever ran,
 * - latest-only lets only the most recent scheduled run email subscribers: a backfilled or late
 *   run refreshes the data but sends no stale alerts (manual and test runs always send).
 *
 * Run it: pnpm tributary dags test example_branching --params '{"fullReload": true}'
 * and with '{"newListings": 0}' to see the short-circuit.
 */
const refresh = dag({
  id: 'example_branching',
  description: 'Short-circuit, branch and latest-only in a daily listings refresh',
  schedule: '@daily',
  startDate: '2024-01-01',
  tags: ['example'],
  params: {
    type: 'object',
    properties: {
      fullReload: { type: 'boolean', default: false, description: 'reload every listing, not only the changes' },
      newListings: { type: 'integer', minimum: 0, default: 3, description: 'how many new listings the (simulated) feed has' },
    },
  },
});

const check = refresh.task('check_feed', ({ params, log }) => {
  log.info({ newListings: params.newListings }, 'feed checked');
  return params.newListings;
});

// Falsy (0 new listings): everything downstream is skipped, whatever its trigger rule.
const anyNew = refresh.shortCircuit('any_new_listings', { upstream: [check] }, ({ upstream }) => upstream.check_feed > 0);

const choose = refresh.branch('choose_load', { upstream: [anyNew] }, ({ params, logicalDate }) =>
  params.fullReload || logicalDate.getUTCDate() === 1 ? 'full_reload' : 'incremental_load',
);
const full = refresh.task('full_reload', { upstream: [choose] }, () => ({ mode: 'full', rows: 12_500 }));
const incremental = refresh.task('incremental_load', { upstream: [choose] }, ({ params }) => ({ mode: 'incremental', rows: params.newListings }));

// One of the two loads is skipped: join with none_failed_min_one_success, not the default all_success.
const publish = refresh.task(
  'publish',
  { upstream: [full, incremental], triggerRule: 'none_failed_min_one_success' },
  ({ upstream, log }) => {
    const load = upstream.full_reload ?? upstream.incremental_load;
    log.info({ load }, 'listings published');
    return load;
  },
);

const latest = refresh.latestOnly('latest_only', { upstream: [publish] });
refresh.task('email_subscribers', { upstream: [latest] }, ({ logicalDate, log }) => {
  log.info(`new listings alert for ${logicalDate.toISOString().slice(0, 10)} sent (simulated)`);
  return 'sent';
});

export default refresh;
