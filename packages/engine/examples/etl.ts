import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '@tributary/engine';

/**
 * Extract → transform → load, with what production DAGs need: retries with exponential backoff,
 * execution timeouts, a cleanup task that always runs, and an alert that runs only on failure.
 *
 * Run it: pnpm tributary dags test example_etl
 */
const etl = dag({
  id: 'example_etl',
  description: 'Extract, transform and load with retries, timeouts and trigger rules',
  schedule: '0 3 * * *',
  startDate: '2024-01-01',
  timezone: 'America/New_York',
  tags: ['example'],
  defaultTaskOptions: { retries: 2, retryDelay: '200ms', retryExponentialBackoff: true, executionTimeout: '30s' },
  params: {
    type: 'object',
    properties: { batchSize: { type: 'integer', minimum: 1, maximum: 1000, default: 5 } },
  },
});

const extract = etl.task('extract', async ({ tryNumber, params, log, signal }) => {
  // Sources are flaky: the first try fails, the retry succeeds.
  if (tryNumber === 1) throw new Error('source timed out (simulated)');
  await sleep(20, undefined, { signal });
  const rows = Array.from({ length: params.batchSize }, (_, i) => ({ id: i + 1, price: 100_000 + i * 25_000 }));
  log.info({ rows: rows.length }, 'extracted');
  return rows;
});

const transform = etl.task('transform', { upstream: [extract] }, ({ upstream }) =>
  upstream.extract.map((row) => ({ ...row, pricePerK: row.price / 1000 })),
);

const load = etl.task('load', { upstream: [transform], executionTimeout: '5s' }, ({ upstream, logicalDate, log }) => {
  log.info({ partition: logicalDate.toISOString().slice(0, 10) }, `loading ${upstream.transform.length} rows`);
  return { loaded: upstream.transform.length };
});

etl.task('alert_on_failure', { upstream: [extract, transform, load], triggerRule: 'one_failed', retries: 0 }, ({ log }) => {
  log.error('the ETL failed; paging the on-call engineer (simulated)');
});

etl.task('cleanup', { upstream: [load], triggerRule: 'all_done', retries: 0 }, () => {
  console.log('temporary files removed');
});

export default etl;
