import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../../src/testing/index.js';
import { PACKAGE_DIR } from '../helpers.js';
import { recordFigures } from './report.js';
import { starvedWorker } from './starvation.js';

const figures: Parameters<typeof recordFigures>[0][number][] = [];
afterAll(() => recordFigures(figures, 'short form (pnpm test)', 'starvation'));

describe('chaos: a task that starves its process', () => {
  it('blocking the event loop or leaking memory in a thread task leaves the worker heart-beating and running other tasks', async () => {
    const database = await createTestDatabase(inject('postgresServerUrl'), inject('templateDatabase'));
    try {
      const result = await starvedWorker({ databaseUrl: database.url, logDir: join(PACKAGE_DIR, '../../artifacts/chaos/logs/starvation') });
      const { tries, localBlockTries, maxHeartbeatAgeMs, ...row } = result;
      figures.push(row);
      expect(row.problems, JSON.stringify(result, null, 2)).toEqual([]);
      // The 10 s loop ran to the end in its thread, in one try: no false zombie.
      expect(tries.block).toEqual([{ state: 'success', error: null, message: null }]);
      // The leak failed its thread twice (a retry), and nothing else.
      expect(tries.leak!.map((t) => t.state)).toEqual(['failed', 'failed']);
      expect(tries.leak![0]!.message).toMatch(/task 'leak' ran out of memory \(the thread's heap limit is 64 MB\)/);
      expect(Object.keys(tries).filter((t) => t.startsWith('small_')).every((t) => tries[t]![0]!.state === 'success')).toBe(true);
      expect(tries.after![0]!.state).toBe('success');
      // Heartbeats every second, timeout 6 s: the worker never came close.
      expect(maxHeartbeatAgeMs).toBeLessThan(4_000);
      // The same loop in the worker's own thread starved its heartbeats: failed as a zombie.
      expect(localBlockTries.map((t) => [t.state, t.error])).toEqual([['failed', 'HeartbeatTimeout']]);
    } finally {
      await database.drop();
    }
  }, 300_000);
});
