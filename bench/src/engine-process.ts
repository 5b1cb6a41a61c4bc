// A scheduler and a worker in a process of their own, as `tributary standalone` runs them, so a
// scenario can measure that process alone (its RSS) rather than the bench process around it.
// Arguments: <database url> <dags folder> <worker concurrency>. Prints "ready" once serving; stops
// on SIGTERM.
import pino from 'pino';
import { Tributary } from '@tributary/engine';
import { BENCH_DIR } from './scenario.js';

const [databaseUrl, dagsFolder, concurrency] = process.argv.slice(2);
if (!databaseUrl || !dagsFolder) throw new Error('usage: engine-process <database url> <dags folder> [concurrency]');
const engine = await Tributary.open({
  // Logs to stderr (inherited by the bench): stdout only says "ready".
  logger: pino({ level: process.env.TRIBUTARY_BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2)),
  projectDir: BENCH_DIR,
  dagsFolders: [dagsFolder],
  databaseUrl,
});
await engine.parseDags();
engine.startScheduler();
await engine.startWorker({ concurrency: Number(concurrency ?? 16) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
