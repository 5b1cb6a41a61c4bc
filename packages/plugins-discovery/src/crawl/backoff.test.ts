import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

describe('retryDelayMs', () => {
  it('doubles from the initial delay for each retry and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => retryDelayMs(retry, 500, 5_000))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('waits nothing when the initial delay is 0', () => {
    expect(retryDelayMs(3, 0, 1000)).toBe(0);
  });
});
