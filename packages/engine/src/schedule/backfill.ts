/** Which existing runs a backfill runs again (Airflow's `reprocess_behavior`). */
export const BACKFILL_REPROCESS = ['none', 'failed', 'completed'] as const;
export type BackfillReprocess = (typeof BACKFILL_REPROCESS)[number];

/**
 * What a backfill does with one interval: `create` a run; `clear` the existing run so it runs again;
 * leave it because it `exists` (and the reprocess mode keeps it); or leave it because it is `in_flight`
 * (queued or running: never touched, whatever the mode).
 */
export type BackfillAction = 'create' | 'clear' | 'exists' | 'in_flight';

/** The state of the run that already holds an interval's logical date, or null when there is none. */
export type ExistingRunState = 'queued' | 'running' | 'success' | 'failed' | null;

/**
 * Decide what a backfill does with an interval, given the run already at its logical date:
 * `none` keeps every existing run, `failed` runs failed ones again, `completed` runs failed and
 * successful ones again; a queued or running run is always left alone.
 */
export function backfillAction(existing: ExistingRunState, reprocess: BackfillReprocess): BackfillAction {
  if (existing === null) return 'create';
  if (existing === 'queued' || existing === 'running') return 'in_flight';
  if (reprocess === 'completed' || (reprocess === 'failed' && existing === 'failed')) return 'clear';
  return 'exists';
}
