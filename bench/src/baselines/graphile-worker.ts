import { Logger, makeWorkerUtils, run, type Runner, type Task } from 'graphile-worker';
import pg from 'pg';
import { CONCURRENCY, countdown, type Baseline } from './types.js';

/**
 * graphile-worker 0.18 at its documented best: LISTEN/NOTIFY wake-ups, a chain by adding the next job
 * from the task, a fan-out by one `addJobs` batch.
 */
export async function graphileWorkerBaseline(connectionString: string): Promise<Baseline> {
  const logger = new Logger(() => () => {});
  // One pool we own and end ourselves, so dropping the database afterwards cannot crash the process.
  const pgPool = new pg.Pool({ connectionString, max: CONCURRENCY + 2 });
  pgPool.on('error', () => {});
  const utils = await makeWorkerUtils({ pgPool, logger });
  await utils.migrate();
  let current: { onChain?: (i: number) => Promise<void>; onFan?: (root: boolean) => Promise<void> } = {};
  const taskList: Record<string, Task> = {
    chain: async (payload) => current.onChain!((payload as { i: number }).i),
    fan: async (payload) => current.onFan!(Boolean((payload as { root?: boolean }).root)),
  };
  const runner: Runner = await run({
    pgPool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 500,
    crontab: '',
    taskList,
    logger,
  });
  return {
    name: 'graphile-worker',
    async chain(length) {
      const starts = new Array<number>(length);
      const ends = new Array<number>(length);
      const finished = countdown(length);
      current = {
        onChain: async (i) => {
          starts[i] = performance.now();
          ends[i] = performance.now();
          if (i + 1 < length) await utils.addJob('chain', { i: i + 1 });
          finished.tick();
        },
      };
      await utils.addJob('chain', { i: 0 });
      await finished.done;
      return starts.slice(1).map((start, i) => start - ends[i]!);
    },
    async fanout(width) {
      const finished = countdown(width + 1);
      let rootEnd = 0;
      let lastEnd = 0;
      current = {
        onFan: async (root) => {
          if (root) {
            rootEnd = performance.now();
            await utils.addJobs(Array.from({ length: width }, () => ({ identifier: 'fan', payload: {} })));
          } else {
            lastEnd = performance.now();
          }
          finished.tick();
        },
      };
      await utils.addJob('fan', { root: true });
      await finished.done;
      return lastEnd - rootEnd;
    },
    close: async () => {
      await runner.stop();
      await utils.release();
      await pgPool.end();
    },
  };
}
