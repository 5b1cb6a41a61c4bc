import { createConnection } from 'node:net';
import { bullmqBaseline } from './bullmq.js';
import { graphileWorkerBaseline } from './graphile-worker.js';
import { pgBossBaseline } from './pg-boss.js';
import type { Baseline } from './types.js';

export { CONCURRENCY, type Baseline } from './types.js';

/** Redis URL BullMQ runs on. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

/** A baseline factory, or the reason it is skipped. */
export interface BaselineSetup {
  name: string;
  /** Open it on an empty database; null with `skip` set when it cannot run here. */
  open: ((databaseUrl: string) => Promise<Baseline>) | null;
  skip?: string;
}

/**
 * The systems Tributary is compared with; BullMQ is skipped with a reason when Redis is absent.
 * `TRIBUTARY_BENCH_SYSTEMS` (set by `--systems`) limits them to the named ones.
 */
export async function baselines(): Promise<BaselineSetup[]> {
  const wanted = process.env.TRIBUTARY_BENCH_SYSTEMS?.split(',').map((s) => s.trim());
  const redis = await reachable(REDIS_URL);
  const all: BaselineSetup[] = [
    { name: 'pg-boss', open: pgBossBaseline },
    { name: 'graphile-worker', open: graphileWorkerBaseline },
    redis
      ? { name: 'bullmq', open: () => bullmqBaseline(REDIS_URL) }
      : { name: 'bullmq', open: null, skip: `no Redis at ${REDIS_URL}` },
  ];
  return wanted ? all.filter((b) => wanted.includes(b.name)) : all;
}
