import { FlowProducer, Queue, Worker, type FlowJob } from 'bullmq';
import { Redis } from 'ioredis';
import { CONCURRENCY, countdown, type Baseline } from './types.js';

/**
 * BullMQ 6 on Redis at its documented best: a chain as a FlowProducer flow (each job the parent of
 * the one before it, so it starts when its child completes); a fan-out by one `addBulk`.
 */
export async function bullmqBaseline(redisUrl: string): Promise<Baseline> {
  // BullMQ 6 under ESM takes constructed ioredis clients; workers duplicate theirs for blocking reads.
  const clients: Redis[] = [];
  const client = (): Redis => {
    const c = new Redis(redisUrl, { maxRetriesPerRequest: null });
    clients.push(c);
    return c;
  };
  const connection = client();
  const prefix = `tributary-bench-${process.pid}`;
  const flows = new FlowProducer({ connection, prefix });
  let run = 0;
  const workers: Worker[] = [];
  const queues: Queue[] = [];
  return {
    name: 'bullmq',
    async chain(length) {
      const name = `chain_${run++}`;
      const starts = new Array<number>(length);
      const ends = new Array<number>(length);
      const finished = countdown(length);
      const worker = new Worker(
        name,
        async (job) => {
          const i = (job.data as { i: number }).i;
          starts[i] = performance.now();
          ends[i] = performance.now();
          finished.tick();
        },
        { connection: client(), prefix, concurrency: CONCURRENCY },
      );
      workers.push(worker);
      // Job i is the parent of job i-1: BullMQ runs children first, so 0 runs first and N-1 last.
      let flow: FlowJob = { name: 'step', queueName: name, data: { i: 0 } };
      for (let i = 1; i < length; i++) flow = { name: 'step', queueName: name, data: { i }, children: [flow] };
      await flows.add(flow);
      await finished.done;
      await worker.close();
      return starts.slice(1).map((start, i) => start - ends[i]!);
    },
    async fanout(width) {
      const name = `fanout_${run++}`;
      const queue = new Queue(name, { connection, prefix });
      queues.push(queue);
      const finished = countdown(width + 1);
      let rootEnd = 0;
      let lastEnd = 0;
      const worker = new Worker(
        name,
        async (job) => {
          if ((job.data as { root?: boolean }).root) {
            rootEnd = performance.now();
            await queue.addBulk(Array.from({ length: width }, () => ({ name: 'fan', data: {} })));
          } else {
            lastEnd = performance.now();
          }
          finished.tick();
        },
        { connection: client(), prefix, concurrency: CONCURRENCY },
      );
      workers.push(worker);
      await queue.add('fan', { root: true });
      await finished.done;
      await worker.close();
      return lastEnd - rootEnd;
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      for (const q of queues) await q.obliterate({ force: true }).catch(() => {});
      await Promise.all(queues.map((q) => q.close()));
      await flows.close();
      for (const c of clients) c.disconnect();
    },
  };
}
