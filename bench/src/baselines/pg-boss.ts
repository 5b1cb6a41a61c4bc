import { PgBoss } from 'pg-boss';
import { CONCURRENCY, countdown, type Baseline } from './types.js';

/**
 * Raw pg-boss 12 at its documented best: LISTEN/NOTIFY on notify-enabled queues; a chain by sending
 * the next job from the handler; a fan-out by one batch insert drained with batch fetches.
 */
export async function pgBossBaseline(connectionString: string): Promise<Baseline> {
  const boss = new PgBoss({ connectionString, useListenNotify: true, schedule: false, supervise: false, max: 8 });
  boss.on('error', () => {});
  await boss.start();
  let run = 0;
  return {
    name: 'pg-boss',
    async chain(length) {
      const queue = `chain_${run++}`;
      await boss.createQueue(queue, { notify: true });
      const starts = new Array<number>(length);
      const ends = new Array<number>(length);
      const finished = countdown(length);
      await boss.work<{ i: number }>(queue, { localConcurrency: CONCURRENCY, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        const i = job!.data.i;
        starts[i] = performance.now();
        ends[i] = performance.now();
        if (i + 1 < length) await boss.send(queue, { i: i + 1 });
        finished.tick();
      });
      await boss.send(queue, { i: 0 });
      await finished.done;
      await boss.offWork(queue, { wait: true });
      return starts.slice(1).map((start, i) => start - ends[i]!);
    },
    async fanout(width) {
      const queue = `fanout_${run++}`;
      await boss.createQueue(queue, { notify: true });
      const finished = countdown(width + 1);
      let rootEnd = 0;
      let lastEnd = 0;
      await boss.work<{ root?: boolean }>(
        queue,
        { localConcurrency: 4, batchSize: 500, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          for (const job of jobs) {
            if (job.data.root) {
              rootEnd = performance.now();
              await boss.insert(queue, Array.from({ length: width }, () => ({ data: {} })));
            } else {
              lastEnd = performance.now();
            }
            finished.tick();
          }
        },
      );
      await boss.send(queue, { root: true });
      await finished.done;
      await boss.offWork(queue, { wait: true });
      return lastEnd - rootEnd;
    },
    close: () => boss.stop({ graceful: false, timeout: 5_000 }),
  };
}
