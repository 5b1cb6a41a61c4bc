import type { TriggerRule } from './types.js';

/** Counts of a task instance's upstream task instances by state. */
export interface UpstreamStateCounts {
  /** Upstream task instances in all. */
  total: number;
  success: number;
  failed: number;
  upstreamFailed: number;
  skipped: number;
  removed: number;
  /** Upstream setup task instances in all, and how many succeeded or were skipped. */
  setupTotal: number;
  setupSuccess: number;
  setupSkipped: number;
}

/** What a trigger rule decides for a task instance that has not started. */
export type TriggerDecision = 'run' | 'wait' | 'skipped' | 'upstream_failed';

/** Counts with every field zero; spread and override in callers. */
export const EMPTY_UPSTREAM_COUNTS: Readonly<UpstreamStateCounts> = Object.freeze({
  total: 0,
  success: 0,
  failed: 0,
  upstreamFailed: 0,
  skipped: 0,
  removed: 0,
  setupTotal: 0,
  setupSuccess: 0,
  setupSkipped: 0,
});

/**
 * Decide, as Airflow's scheduler does, whether a task may run, must wait, or is settled as skipped
 * or upstream_failed without running. A task with no upstream tasks always runs.
 */
export function evaluateTriggerRule(rule: TriggerRule, c: UpstreamStateCounts): TriggerDecision {
  if (rule === 'always' || c.total === 0) return 'run';
  const done = c.success + c.failed + c.upstreamFailed + c.skipped + c.removed;
  const upstreamDone = done >= c.total;
  const failures = c.failed + c.upstreamFailed;

  switch (rule) {
    case 'all_success':
      if (failures > 0) return 'upstream_failed';
      if (c.skipped > 0) return 'skipped';
      return c.success >= c.total ? 'run' : 'wait';
    case 'all_failed':
      if (c.success > 0 || c.skipped > 0) return 'skipped';
      return failures >= c.total ? 'run' : 'wait';
    case 'all_done':
      return upstreamDone ? 'run' : 'wait';
    case 'all_done_min_one_success': {
      // Skipped upstreams do not count as done for this rule.
      if (c.skipped > 0) return 'skipped';
      const nonSkippedDone = c.success + c.failed + c.upstreamFailed + c.removed;
      if (nonSkippedDone < c.total) return 'wait';
      return c.success > 0 ? 'run' : 'upstream_failed';
    }
    case 'all_done_setup_success':
      if (!upstreamDone) return 'wait';
      if (c.setupTotal > 0 && c.setupSkipped >= c.setupTotal) return 'skipped';
      if (c.setupTotal > 0 && c.setupSuccess === 0) return 'upstream_failed';
      return 'run';
    case 'one_success':
      if (c.success > 0) return 'run';
      if (upstreamDone) return done === c.skipped ? 'skipped' : 'upstream_failed';
      return 'wait';
    case 'one_failed':
      if (failures > 0) return 'run';
      return upstreamDone ? 'skipped' : 'wait';
    case 'one_done':
      if (c.success + c.failed > 0) return 'run';
      return upstreamDone ? 'skipped' : 'wait';
    case 'none_failed':
      if (failures > 0) return 'upstream_failed';
      return c.success + c.skipped >= c.total ? 'run' : 'wait';
    case 'none_failed_min_one_success':
      if (failures > 0) return 'upstream_failed';
      if (c.skipped >= c.total) return 'skipped';
      return c.success + c.skipped >= c.total ? 'run' : 'wait';
    case 'none_skipped':
      if (c.skipped > 0) return 'skipped';
      return upstreamDone ? 'run' : 'wait';
    case 'all_skipped':
      if (c.success > 0 || failures > 0) return 'skipped';
      return c.skipped >= c.total ? 'run' : 'wait';
    default: {
      const unknown: never = rule;
      throw new Error(`unknown trigger rule '${String(unknown)}'`);
    }
  }
}
