import { dag, type DagRunCallbackContext, type TaskCallbackContext } from '@tributary/engine';

/**
 * Callbacks and deadline alerts: task callbacks run on the worker after the try's state is stored
 * (their lines go to the try's log); DAG callbacks run once when the run finishes; the deadline
 * alert runs once if a run is still going `after` its reference time. A callback that throws or
 * hangs is logged and changes nothing.
 *
 * Run it: pnpm tributary dags test example_callbacks, then pnpm tributary tasks logs example_callbacks <run> flaky
 */
function notify(ctx: TaskCallbackContext): void {
  // A real one would post to a chat or paging service.
  ctx.log.warn({ task: ctx.taskId, try: ctx.tryNumber, error: ctx.error?.message }, `task ${ctx.kind}: ${ctx.state}`);
}

function runFinished(ctx: DagRunCallbackContext): void {
  ctx.log.info({ failedTasks: ctx.failedTasks }, `run ${ctx.runId} finished ${ctx.state}`);
}

const callbacks = dag({
  id: 'example_callbacks',
  description: 'Task and DAG callbacks, and a deadline alert',
  schedule: '0 6 * * *',
  startDate: '2024-01-01',
  tags: ['example'],
  // Every task reports failures and retries (Airflow's default_args on_failure_callback).
  defaultTaskOptions: { onFailure: notify, onRetry: notify },
  onSuccess: runFinished,
  onFailure: runFinished,
  // The 06:00 run covers the previous day; it should be done by 08:00 (2 h after it became due).
  deadline: {
    reference: 'dataIntervalEnd',
    after: '2h',
    callback: (ctx) => ctx.log.error({ deadline: ctx.deadline?.at }, `run ${ctx.runId} is late`),
  },
});

const flaky = callbacks.task('flaky', { retries: 1, retryDelay: '100ms' }, ({ tryNumber }) => {
  if (tryNumber === 1) throw new Error('upstream API returned 503 (simulated)');
  return 'fetched';
});

callbacks.task('publish', { upstream: [flaky], onSuccess: (ctx) => ctx.log.info(`published after try ${ctx.tryNumber}`) }, () => 'published');

export default callbacks;
