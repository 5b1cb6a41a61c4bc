import { dag } from '@tributary/engine';

/**
 * Setup and teardown: a staging schema is created before the load (setup) and dropped after it
 * (teardown) — also when the load or the validation fails, as long as the schema was created. A
 * failing teardown would not fail the run (no `failRunOnFailure`); a failing load does, while the
 * teardown still cleans up.
 *
 * Run it: pnpm tributary dags test example_setup_teardown
 * and with --params '{"rejectBatch": true}' to see the teardown run after a failure.
 */
const staging = dag({
  id: 'example_setup_teardown',
  description: 'Load listings through a staging schema that is always dropped',
  schedule: '0 4 * * *',
  startDate: '2024-01-01',
  tags: ['example'],
  params: {
    type: 'object',
    properties: { rejectBatch: { type: 'boolean', default: false, description: 'simulate a batch failing validation' } },
  },
});

const create = staging.task('create_staging', { setup: true }, ({ runId, log }) => {
  const schema = `staging_${runId.replace(/[^A-Za-z0-9]/g, '_').slice(-24)}`;
  log.info(`CREATE SCHEMA ${schema} (simulated)`);
  return schema;
});

const load = staging.task('load_listings', { upstream: [create] }, ({ upstream, log }) => {
  log.info(`COPY listings INTO ${upstream.create_staging}.listings (simulated)`);
  return { schema: upstream.create_staging, rows: 250 };
});

const validate = staging.task('validate', { upstream: [load] }, ({ upstream, params }) => {
  if (params.rejectBatch) throw new Error(`${upstream.load_listings.rows} rows rejected: prices missing (simulated)`);
  return upstream.load_listings.rows;
});

const swap = staging.task('swap_into_production', { upstream: [validate] }, ({ upstream }) => ({ published: upstream.validate }));

// Runs once the swap is done or cannot happen any more (validation failed), if the schema was
// created. Its setup is an upstream task anyway; listing it in `upstream` too types its result.
staging.task('drop_staging', { upstream: [create, swap], teardown: { setups: [create] } }, ({ upstream, log }) => {
  log.info(`DROP SCHEMA ${upstream.create_staging} CASCADE (simulated)`);
  return 'dropped';
});

export default staging;
