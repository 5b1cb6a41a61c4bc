import { describe, expect, it } from 'vitest';
import type { PipelinedConnection, PipelineProvider } from '../db/pipeline.js';
import { JobConsumer, type FetchedJob, type JobStart } from './job-consumer.js';

/** Connections that record the transaction statements they are sent (BEGIN, COMMIT, ROLLBACK) and answer with no rows. */
function fakeConnections(events: string[]): PipelineProvider {
  const conn: PipelinedConnection = {
    pipelined: true,
    db: {} as PipelinedConnection['db'],
    executeCompiled: async (query) => {
      events.push(query.sql);
      return { rows: [] };
    },
    executeSql: async () => ({ rows: [] }),
  };
  return (work) => work(conn);
}

const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('JobConsumer', () => {
  it('fetches, claims and completes in one transaction, starts after the commit, and takes no more jobs than free slots', async () => {
    const events: string[] = [];
    const waiting = Array.from({ length: 5 }, (_, i) => i);
    const asked: number[] = [];
    const running: (() => void)[] = [];
    const consumer = new JobConsumer<number>({
      pipelined: fakeConnections(events),
      concurrency: 2,
      pollIntervalMs: 10_000,
      onError: (error) => events.push(`error ${String(error)}`),
      source: {
        fetch: async (_trx, max) => {
          asked.push(max);
          return waiting.splice(0, max).map((n): FetchedJob<number> => ({ id: String(n), retryCount: 0, data: n }));
        },
        complete: async (_trx, jobs) => void events.push(`complete ${jobs.map((j) => j.data).join(',')}`),
      },
      handler: async (jobs) => {
        events.push(`claim ${jobs.join(',')}`);
        // Job 1 is a duplicate: nothing to start, its slot is free again at once.
        return jobs.map((n): JobStart | null =>
          n === 1 ? null : () => new Promise<void>((resolve) => (events.push(`start ${n}`), running.push(resolve))),
        );
      },
    });
    consumer.start();
    await tick();
    expect(events.slice(0, 5)).toEqual(['BEGIN', 'complete 0,1', 'claim 0,1', 'COMMIT', 'start 0']);
    expect(Math.max(...asked)).toBeLessThanOrEqual(2);
    while (running.length > 0 || waiting.length > 0) {
      running.shift()?.();
      await tick();
    }
    await consumer.stop();
    expect(events.filter((e) => e.startsWith('start'))).toEqual(['start 0', 'start 2', 'start 3', 'start 4']);
    for (const n of [2, 3, 4]) expect(events.indexOf(`start ${n}`)).toBeGreaterThan(events.indexOf('COMMIT'));
  });

  it('rolls back, leaving the jobs untaken, when claiming throws, and is woken by notify instead of waiting for its poll', async () => {
    const events: string[] = [];
    let available = 0;
    let failNext = true;
    const consumer = new JobConsumer<number>({
      pipelined: fakeConnections(events),
      concurrency: 4,
      pollIntervalMs: 60_000,
      onError: () => events.push('error'),
      source: {
        fetch: async () => (available > 0 ? [{ id: String(available), retryCount: 0, data: available-- }] : []),
        complete: async () => void events.push('complete'),
      },
      handler: async (jobs) => {
        if (failNext) {
          failNext = false;
          throw new Error('database went away');
        }
        return jobs.map(() => async () => void events.push('start'));
      },
    });
    consumer.start();
    await tick();
    expect([...events].sort()).toEqual(['BEGIN', 'BEGIN', 'COMMIT', 'COMMIT']); // both lanes found nothing and sleep
    available = 1;
    consumer.notify();
    await tick();
    expect(events).toContain('error'); // rolled back: nothing started
    expect(events).toContain('ROLLBACK');
    expect(events).not.toContain('start');
    available = 1;
    await tick(1100); // a failed fetch is retried after at most a second
    expect(events.slice(-4)).toEqual(['BEGIN', 'complete', 'COMMIT', 'start']);
    await consumer.stop();
  });
});
