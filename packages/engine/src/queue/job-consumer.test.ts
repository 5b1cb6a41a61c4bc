import { describe, expect, it } from 'vitest';
import type { PipelinedConnection, PipelineProvider } from '../db/pipeline.js';
import { JobConsumer, type FetchedJob, type JobStart } from './job-consumer.js';

/** Connections that record the transaction statements they are sent (BEGIN, COMMIT, ROLLBACK) and answer with no rows. */
function fakeConnections(events: string[]): PipelineProvider {
  let sent = 0;
  const conn: PipelinedConnection = {
    pipelined: true,
    get sent() {
      return sent;
    },
    db: {} as PipelinedConnection['db'],
    executeCompiled: async (query) => {
      sent++;
      events.push(query.sql);
      return { rows: [] };
    },
    executeSql: async (text) => {
      sent++;
      events.push(text);
      return { rows: [] };
    },
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
        // As pg-boss does: the statement goes out a tick after the call.
        complete: async (conn, jobs) => {
          await Promise.resolve();
          await conn.executeSql(`complete ${jobs.map((j) => j.data).join(',')}`);
        },
      },
      handler: async (jobs) => ({
        send: async (conn) => {
          const answer = conn.executeSql(`claim ${jobs.join(',')}`);
          await answer;
          // Job 1 is a duplicate: nothing to start, its slot is free again at once.
          return jobs.map((n): JobStart | null =>
            n === 1 ? null : () => new Promise<void>((resolve) => (events.push(`start ${n}`), running.push(resolve))),
          );
        },
      }),
    });
    consumer.start();
    await tick();
    expect(events.slice(0, 5)).toEqual(['BEGIN', 'claim 0,1', 'complete 0,1', 'COMMIT', 'start 0']);
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
        complete: async (conn) => void (await conn.executeSql('complete')),
      },
      handler: async (jobs) => ({
        send: async (conn) => {
          await conn.executeSql('claim');
          if (failNext) {
            failNext = false;
            throw new Error('the claim failed');
          }
          return jobs.map(() => async () => void events.push('start'));
        },
      }),
    });
    consumer.start();
    await tick();
    expect([...events].sort()).toEqual(['BEGIN', 'BEGIN', 'COMMIT', 'COMMIT']); // both lanes found nothing and sleep
    available = 1;
    consumer.notify();
    await tick();
    // The COMMIT behind the failed claim met an aborted transaction; nothing started.
    const claimAt = events.indexOf('claim');
    expect(events.slice(claimAt - 1, claimAt + 4).sort()).toEqual(['COMMIT', 'ROLLBACK', 'claim', 'complete', 'error']);
    expect(events).not.toContain('start');
    available = 1;
    await tick(1100); // a failed fetch is retried after at most a second
    const tail = events.slice(-5);
    expect([tail[0], ...tail.slice(1, 3).sort(), ...tail.slice(3)]).toEqual(['BEGIN', 'claim', 'complete', 'COMMIT', 'start']);
    await consumer.stop();
  });
});
