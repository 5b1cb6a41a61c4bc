import { describe, expect, it } from 'vitest';
import { DEFAULT_SENSOR_OPTIONS, SensorFailedError, SensorTimeoutError, type ResolvedSensorOptions } from '../dag/sensor-options.js';
import { SkipTaskError } from '../errors.js';
import { SensorReschedule, pokeUntilDone, type SensorRun } from './sensor-runner.js';
import type { TaskLogWriter } from './task-log.js';

function setup(sensor: Partial<ResolvedSensorOptions>, pokes: (n: number) => unknown, progress = { pokes: 0, elapsedMs: 0 }) {
  const lines: string[] = [];
  let calls = 0;
  const run: SensorRun = {
    sensor: { ...DEFAULT_SENSOR_OPTIONS, pokeIntervalMs: 5, ...sensor },
    where: { dagId: 'd', taskId: 'wait' },
    progress,
    poke: async () => pokes(++calls),
    signal: new AbortController().signal,
    log: { write: (_level: string, message: string) => void lines.push(message) } as unknown as TaskLogWriter,
  };
  return { run, lines, calls: () => calls };
}

describe('pokeUntilDone', () => {
  it('in poke mode, pokes until done within the same call and returns the value', async () => {
    const { run, lines, calls } = setup({ mode: 'poke' }, (n) => (n < 3 ? false : { done: true, value: 'ready' }));
    await expect(pokeUntilDone(run)).resolves.toBe('ready');
    expect(calls()).toBe(3);
    expect(lines).toEqual(['Poke 1: condition not met; next poke in 5 ms', 'Poke 2: condition not met; next poke in 5 ms', 'Sensor condition met at poke 3']);
  });

  it('in reschedule mode, ends after one poke with the next poke time, counting earlier pokes of the try', async () => {
    const before = Date.now();
    const { run, calls } = setup({ mode: 'reschedule', pokeIntervalMs: 60_000, exponentialBackoff: true }, () => false, { pokes: 2, elapsedMs: 1_000 });
    const outcome = await pokeUntilDone(run);
    expect(outcome).toBeInstanceOf(SensorReschedule);
    const reschedule = outcome as SensorReschedule;
    expect(calls()).toBe(1);
    expect(reschedule.pokes).toBe(3);
    // Third poke with backoff: 60 s x 2^2.
    expect(reschedule.at.getTime()).toBeGreaterThanOrEqual(before + 240_000);
  });

  it('times out from the first poke of the try, including time before this call', async () => {
    const { run } = setup({ mode: 'reschedule', timeoutMs: 10_000 }, () => false, { pokes: 4, elapsedMs: 10_000 });
    const error = await pokeUntilDone(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SensorTimeoutError);
    expect((error as Error).message).toBe("DAG 'd': sensor 'wait' timed out: its condition was not met within 10000 ms (5 poke(s))");
  });

  it('is skipped at its timeout with softFail, and on a SensorFailedError only with softFail', async () => {
    await expect(pokeUntilDone(setup({ timeoutMs: 1, softFail: true }, () => false, { pokes: 0, elapsedMs: 5 }).run)).rejects.toBeInstanceOf(SkipTaskError);
    const failing = () => {
      throw new SensorFailedError('EXTERNAL', 'the watched task failed');
    };
    await expect(pokeUntilDone(setup({ softFail: true }, failing).run)).rejects.toThrow('the watched task failed; skipped because of softFail');
    await expect(pokeUntilDone(setup({}, failing).run)).rejects.toBeInstanceOf(SensorFailedError);
    // Any other error is the task's failure, retried as usual.
    await expect(pokeUntilDone(setup({ softFail: true }, () => { throw new TypeError('boom'); }).run)).rejects.toBeInstanceOf(TypeError);
  });

  it('stops waiting between pokes when its signal aborts, with the reason', async () => {
    const abort = new AbortController();
    const { run } = setup({ mode: 'poke', pokeIntervalMs: 60_000 }, () => false);
    const waiting = pokeUntilDone({ ...run, signal: abort.signal });
    const reason = new Error('timed out');
    setTimeout(() => abort.abort(reason), 5);
    await expect(waiting).rejects.toBe(reason);
  });

  it('rejects a poke that returns something else than a boolean or { done }', async () => {
    await expect(pokeUntilDone(setup({}, () => 'yes').run)).rejects.toThrow("sensor 'wait': a poke must return true, false or { done, value }, got string");
  });
});
