import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Batcher', () => {
  it('flushes a lone call at once, and calls made meanwhile together in the next flush', async () => {
    const flushes: number[][] = [];
    const gate = deferred<void>();
    const batcher = new Batcher<number, number>(async (inputs) => {
      flushes.push(inputs);
      if (flushes.length === 1) await gate.promise;
      return inputs.map((i) => i * 10);
    });
    const first = batcher.run(1);
    const rest = [batcher.run(2), batcher.run(3), batcher.run(4)];
    expect(flushes).toEqual([[1]]);
    gate.resolve();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('keeps inputs with the same key in separate flushes, in call order', async () => {
    const flushes: string[][] = [];
    const gate = deferred<void>();
    const batcher = new Batcher<string, string>(
      async (inputs) => {
        flushes.push(inputs);
        if (flushes.length === 1) await gate.promise;
        return inputs;
      },
      { key: (s) => s[0]! },
    );
    const all = [batcher.run('a0'), batcher.run('a1'), batcher.run('b1'), batcher.run('a2'), batcher.run('c1')];
    gate.resolve();
    await Promise.all(all);
    expect(flushes).toEqual([['a0'], ['a1', 'b1', 'c1'], ['a2']]);
  });

  it('caps a flush at maxBatch and rejects every call of a failed flush', async () => {
    const flushes: number[][] = [];
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        flushes.push(inputs);
        if (inputs.includes(3)) throw new Error('boom');
        return inputs;
      },
      { maxBatch: 2 },
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batcher.run(n)));
    expect(flushes).toEqual([[1], [2, 3], [4, 5]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
  });

  it('rejects when a flush returns the wrong number of outputs', async () => {
    const batcher = new Batcher<number, number>(async () => []);
    await expect(batcher.run(1)).rejects.toThrow(/0 outputs for 1 inputs/);
  });
});
