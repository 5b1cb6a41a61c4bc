import { dag } from '@tributary/engine';

/**
 * A weekday report at 06:00 Paris time. A scheduled run covers its data interval
 * [previous tick, this tick) and starts when the interval ends; without catchup only the latest
 * interval is run when the scheduler starts.
 *
 * Run it: pnpm tributary dags test example_scheduled_report --logical-date 2024-03-04T05:00:00Z
 */
const report = dag({
  id: 'example_scheduled_report',
  description: 'Weekday 06:00 report in Europe/Paris',
  schedule: '0 6 * * 1-5',
  timezone: 'Europe/Paris',
  startDate: '2024-01-01',
  catchup: false,
  tags: ['example'],
});

report.task('build_report', ({ dataInterval, logicalDate, runType, log }) => {
  log.info({ from: dataInterval.start.toISOString(), to: dataInterval.end.toISOString(), runType }, 'building report');
  return { day: logicalDate.toISOString().slice(0, 10) };
});

export default report;
