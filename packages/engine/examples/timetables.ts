import { dag } from '@tributary/engine';

/**
 * Three ways to schedule, side by side (each `dags test`-able):
 * - a 6-field cron (seconds first) in a DST-observing zone,
 * - fixed 6-hour intervals counted from the start date,
 * - `@continuous`: the next run starts as soon as the previous one finished.
 *
 * Run one: pnpm tributary dags test example_every_6h --logical-date 2024-03-10T06:00:00Z
 */
export const cron = dag({
  id: 'example_cron_seconds',
  description: 'At second 30 of 02:00 New York time, every day (03:00:30 on the spring-forward day)',
  schedule: '30 0 2 * * *',
  timezone: 'America/New_York',
  startDate: '2024-01-01',
  tags: ['example'],
});
cron.task('report', ({ dataInterval }) => ({ from: dataInterval.start.toISOString(), to: dataInterval.end.toISOString() }));

export const every6h = dag({
  id: 'example_every_6h',
  description: 'Fixed 6-hour data intervals from the start date, with catchup',
  schedule: { every: '6h' },
  startDate: '2024-01-01T00:00:00Z',
  endDate: '2024-12-31T18:00:00Z',
  catchup: true,
  maxActiveRuns: 2,
  tags: ['example'],
});
every6h.task('load_window', ({ dataInterval, log }) => {
  const hours = (dataInterval.end.getTime() - dataInterval.start.getTime()) / 3_600_000;
  log.info({ start: dataInterval.start.toISOString(), hours }, 'loading window');
  return hours;
});

export const continuous = dag({
  id: 'example_continuous',
  description: 'Polls for new work, one run right after another',
  schedule: '@continuous',
  startDate: '2024-01-01',
  pausedOnCreation: true,
  tags: ['example'],
});
continuous.task('poll', async ({ signal }) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return signal.aborted ? 'stopped' : 'polled';
});
