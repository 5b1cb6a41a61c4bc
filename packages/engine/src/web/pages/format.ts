import type { TaskState } from '../../db/schema.js';

/** `2024-05-01 06:30:04` in UTC (the monitor shows every time in UTC, as Airflow does by default). */
export function formatTime(date: Date | null | undefined): string {
  if (!date) return '';
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** A length of time for people: `850 ms`, `12.4 s`, `3 m 05 s`, `2 h 04 m`, `3 d 04 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const total = Math.round(s);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)} m ${pad(total % 60)} s`;
  if (total < 86_400) return `${Math.floor(total / 3600)} h ${pad(Math.floor((total % 3600) / 60))} m`;
  return `${Math.floor(total / 86_400)} d ${pad(Math.floor((total % 86_400) / 3600))} h`;
}

/** Milliseconds between two dates; from `start` to now when `end` is not set yet; null without a start. */
export function elapsedMs(start: Date | null | undefined, end: Date | null | undefined, now = Date.now()): number | null {
  if (!start) return null;
  return (end ? end.getTime() : now) - start.getTime();
}

/** `5 s ago`, `3 m ago`, `in 2 h` relative to `now`. */
export function formatRelative(date: Date | null | undefined, now = Date.now()): string {
  if (!date) return '';
  const diff = date.getTime() - now;
  const abs = Math.abs(diff);
  const unit = abs < 60_000 ? [Math.round(abs / 1000), 's'] : abs < 3_600_000 ? [Math.round(abs / 60_000), 'm'] : abs < 86_400_000 ? [Math.round(abs / 3_600_000), 'h'] : [Math.round(abs / 86_400_000), 'd'];
  return diff <= 0 ? `${unit[0]} ${unit[1]} ago` : `in ${unit[0]} ${unit[1]}`;
}

/**
 * Task states from most to least in need of attention: the state a collapsed group or a mapped task
 * shows is the first of its instances' states in this list (a failed instance shows as failed even
 * if the others succeeded; a running one before queued ones).
 */
export const STATE_PRIORITY: readonly (TaskState | 'none')[] = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'up_for_reschedule',
  'running',
  'deferred',
  'queued',
  'scheduled',
  'none',
  'success',
  'skipped',
  'removed',
];

/** The state to show for a set of instances' states, per {@link STATE_PRIORITY}; null when there are none. */
export function summaryState(states: Iterable<TaskState | 'none' | null>): TaskState | 'none' | null {
  let best = Number.POSITIVE_INFINITY;
  for (const s of states) best = Math.min(best, STATE_PRIORITY.indexOf(s ?? 'none'));
  return Number.isFinite(best) ? STATE_PRIORITY[best]! : null;
}

/** `3 success, 1 failed` from state counts, in {@link STATE_PRIORITY} order. */
export function describeCounts(counts: Partial<Record<TaskState | 'none', number>>): string {
  return STATE_PRIORITY.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${counts[s]} ${s === 'none' ? 'no status' : s}`)
    .join(', ');
}

/** Pretty JSON for display (two-space indent); `undefined` shows as nothing. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2) ?? '';
}

/** A schedule as stored (cron/preset text, `{ every }` in ms, `{ assets }`) for people. */
export function formatSchedule(schedule: unknown): string {
  if (schedule === null || schedule === undefined) return 'None (manual)';
  if (typeof schedule === 'string') return schedule;
  if (typeof schedule === 'object' && 'every' in schedule) return `every ${formatDuration(Number((schedule as { every: number }).every))}`;
  if (typeof schedule === 'object' && 'assets' in schedule) return `on assets: ${(schedule as { assets: string[] }).assets.join(', ')}`;
  return JSON.stringify(schedule);
}
