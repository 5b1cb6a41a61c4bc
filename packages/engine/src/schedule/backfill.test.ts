import { describe, expect, it } from 'vitest';
import { backfillAction, type ExistingRunState } from './backfill.js';

describe('backfillAction', () => {
  const states: ExistingRunState[] = [null, 'queued', 'running', 'success', 'failed'];

  it.each([
    ['none', ['create', 'in_flight', 'in_flight', 'exists', 'exists']],
    ['failed', ['create', 'in_flight', 'in_flight', 'exists', 'clear']],
    ['completed', ['create', 'in_flight', 'in_flight', 'clear', 'clear']],
  ] as const)('reprocess %s: missing, queued, running, success, failed', (mode, expected) => {
    expect(states.map((state) => backfillAction(state, mode))).toEqual(expected);
  });
});
