import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dag } from '@tributary/engine';
import { dateTimeSensor, fileSensor, timeDeltaSensor } from '@tributary/engine/operators';

/**
 * Waiting for things outside the DAG: a custom sensor polling for an export another system writes
 * (reschedule mode: it holds no worker slot while it waits), and built-in sensors for a file, a
 * moment and a delay after the data interval. The load runs once all of them are satisfied.
 *
 * Run it: pnpm tributary dags test example_sensors
 */
const sensors = dag({
  id: 'example_sensors',
  description: 'Sensors in poke and reschedule mode, custom and built in',
  schedule: '@daily',
  startDate: '2024-01-01',
  tags: ['example'],
});

const exports = join(tmpdir(), 'tributary-example-sensors');
const exportFile = (runId: string): string => join(exports, `${runId.replace(/[^A-Za-z0-9_-]/g, '_')}.csv`);

// Stands in for an external system that delivers the day's export after a while.
sensors.task('deliver_export', async ({ runId, signal }) => {
  await sleep(400, undefined, { signal });
  mkdirSync(exports, { recursive: true });
  writeFileSync(exportFile(runId), 'id,price\n1,250000\n2,310000\n');
});

// A custom sensor: its poke says whether the export is there, and hands its path to the load.
const exported = sensors.sensor(
  'wait_for_export',
  { sensor: { mode: 'reschedule', pokeInterval: '200ms', timeout: '1m' } },
  ({ runId, log }) => {
    const path = exportFile(runId);
    log.info(`looking for ${path}`);
    return existsSync(path) ? { done: true, value: path } : false;
  },
);

// Built-in sensors. This DAG's own file always exists; a date long gone has passed.
const file = sensors.task('wait_for_file', fileSensor({ path: fileURLToPath(import.meta.url) }), { sensor: { pokeInterval: '1s', timeout: '1m' } });
const moment = sensors.task('wait_for_date', dateTimeSensor({ target: '2024-01-01T06:00:00Z' }), { sensor: { timeout: '1m' } });
// In reschedule mode with a backoff: 100 ms, 200 ms, 400 ms … until one second after the interval ended.
const settled = sensors.task('wait_for_settling', timeDeltaSensor({ delta: '1s' }), {
  sensor: { mode: 'reschedule', pokeInterval: '100ms', exponentialBackoff: true, maxWait: '500ms', timeout: '1m', softFail: true },
});

sensors.task('load', { upstream: [exported, file, moment, settled] }, ({ upstream, log }) => {
  log.info({ export: upstream.wait_for_export, files: upstream.wait_for_file.files.length }, 'loading');
  return { loaded: upstream.wait_for_export };
});

export default sensors;
