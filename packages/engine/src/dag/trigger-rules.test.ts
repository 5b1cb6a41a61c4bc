import { describe, expect, it } from 'vitest';
import { EMPTY_UPSTREAM_COUNTS, evaluateTriggerRule, type TriggerDecision, type UpstreamStateCounts } from './trigger-rules.js';
import { TRIGGER_RULES, type TriggerRule } from './types.js';

/** Upstream states of a task with `total` upstream tasks; the rest are still running. */
function up(total: number, states: Partial<Omit<UpstreamStateCounts, 'total'>> = {}): UpstreamStateCounts {
  return { ...EMPTY_UPSTREAM_COUNTS, total, ...states };
}

// [upstream situation, expected decision] per rule, following Airflow 3's TriggerRuleDep.
const CASES: Record<TriggerRule, [string, UpstreamStateCounts, TriggerDecision][]> = {
  all_success: [
    ['all succeeded', up(3, { success: 3 }), 'run'],
    ['some still running', up(3, { success: 2 }), 'wait'],
    ['one failed while others run', up(3, { success: 1, failed: 1 }), 'upstream_failed'],
    ['one upstream_failed', up(2, { success: 1, upstreamFailed: 1 }), 'upstream_failed'],
    ['one skipped', up(2, { success: 1, skipped: 1 }), 'skipped'],
    ['failed and skipped: failure wins', up(2, { failed: 1, skipped: 1 }), 'upstream_failed'],
  ],
  all_failed: [
    ['all failed', up(2, { failed: 2 }), 'run'],
    ['failed and upstream_failed', up(2, { failed: 1, upstreamFailed: 1 }), 'run'],
    ['one still running', up(2, { failed: 1 }), 'wait'],
    ['one succeeded', up(2, { failed: 1, success: 1 }), 'skipped'],
    ['one skipped', up(2, { failed: 1, skipped: 1 }), 'skipped'],
  ],
  all_done: [
    ['all finished in any state', up(4, { success: 1, failed: 1, skipped: 1, upstreamFailed: 1 }), 'run'],
    ['one still running', up(3, { success: 1, failed: 1 }), 'wait'],
  ],
  all_done_min_one_success: [
    ['done with one success', up(3, { success: 1, failed: 2 }), 'run'],
    ['done, no success', up(2, { failed: 2 }), 'upstream_failed'],
    ['one skipped', up(2, { success: 1, skipped: 1 }), 'skipped'],
    ['one still running', up(2, { success: 1 }), 'wait'],
  ],
  all_done_setup_success: [
    ['done, no setups', up(2, { success: 1, failed: 1 }), 'run'],
    ['done, a setup succeeded', up(2, { success: 1, failed: 1, setupTotal: 1, setupSuccess: 1 }), 'run'],
    ['done, every setup skipped', up(2, { skipped: 1, success: 1, setupTotal: 1, setupSkipped: 1 }), 'skipped'],
    ['done, setups failed', up(2, { failed: 1, success: 1, setupTotal: 1 }), 'upstream_failed'],
    ['not done', up(2, { success: 1 }), 'wait'],
  ],
  one_success: [
    ['one succeeded, others running', up(3, { success: 1 }), 'run'],
    ['none finished', up(3), 'wait'],
    ['one failed, others running', up(3, { failed: 1 }), 'wait'],
    ['all done without success', up(2, { failed: 1, skipped: 1 }), 'upstream_failed'],
    ['all skipped', up(2, { skipped: 2 }), 'skipped'],
  ],
  one_failed: [
    ['one failed, others running', up(3, { failed: 1 }), 'run'],
    ['one upstream_failed', up(3, { upstreamFailed: 1 }), 'run'],
    ['running', up(2, { success: 1 }), 'wait'],
    ['all done without failure', up(2, { success: 1, skipped: 1 }), 'skipped'],
  ],
  one_done: [
    ['one succeeded', up(3, { success: 1 }), 'run'],
    ['one failed', up(3, { failed: 1 }), 'run'],
    ['only skipped so far', up(3, { skipped: 1 }), 'wait'],
    ['all skipped or upstream_failed', up(2, { skipped: 1, upstreamFailed: 1 }), 'skipped'],
  ],
  none_failed: [
    ['success and skipped', up(2, { success: 1, skipped: 1 }), 'run'],
    ['all skipped', up(2, { skipped: 2 }), 'run'],
    ['one still running', up(2, { success: 1 }), 'wait'],
    ['one failed', up(2, { success: 1, failed: 1 }), 'upstream_failed'],
    ['one upstream_failed', up(2, { upstreamFailed: 1 }), 'upstream_failed'],
  ],
  none_skipped: [
    ['all succeeded or failed', up(2, { success: 1, failed: 1 }), 'run'],
    ['one skipped', up(2, { success: 1, skipped: 1 }), 'skipped'],
    ['one still running', up(2, { success: 1 }), 'wait'],
  ],
  none_failed_min_one_success: [
    ['success and skipped', up(2, { success: 1, skipped: 1 }), 'run'],
    ['all skipped', up(2, { skipped: 2 }), 'skipped'],
    ['one failed', up(2, { success: 1, failed: 1 }), 'upstream_failed'],
    ['still running', up(2, { skipped: 1 }), 'wait'],
  ],
  all_skipped: [
    ['all skipped', up(2, { skipped: 2 }), 'run'],
    ['one succeeded', up(2, { skipped: 1, success: 1 }), 'skipped'],
    ['one failed', up(2, { failed: 1 }), 'skipped'],
    ['still running', up(2, { skipped: 1 }), 'wait'],
  ],
  always: [
    ['nothing finished', up(3), 'run'],
    ['all failed', up(2, { failed: 2 }), 'run'],
  ],
};

describe('evaluateTriggerRule', () => {
  it('has cases for every trigger rule of Airflow 3', () => {
    expect(Object.keys(CASES).sort()).toEqual([...TRIGGER_RULES].sort());
  });

  for (const rule of TRIGGER_RULES) {
    describe(rule, () => {
      for (const [situation, counts, expected] of CASES[rule]) {
        it(`${situation} -> ${expected}`, () => {
          expect(evaluateTriggerRule(rule, counts)).toBe(expected);
        });
      }
      it('runs a task without upstream tasks', () => {
        expect(evaluateTriggerRule(rule, up(0))).toBe('run');
      });
    });
  }
});
