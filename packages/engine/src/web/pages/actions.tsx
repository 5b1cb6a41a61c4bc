/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { TributaryError } from '../../errors.js';
import { previewCancel, previewClear, previewMark, type ActionPreview } from '../../service/action-preview.js';
import { cancelRun, clearTaskInstances, markTaskInstances, pauseDag, type ChangedTaskInstance } from '../../service/actions.js';
import { getDagCached } from '../../service/dag-details.js';
import { safeNext } from '../auth/routes.js';
import { requestActor } from '../auth/middleware.js';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { setFlash, wantsDialog } from './access.js';
import { FormActions, StateBadge } from './components.js';
import { Layout } from './layout.js';
import { dagPath, flag, runActionPath, runPath, taskPath } from './paths.js';

/** The form values an action posts: strings only (checkboxes present when ticked). */
type Form = Record<string, string | undefined>;

async function formOf(c: Context<WebEnv>): Promise<Form> {
  const body = await c.req.parseBody();
  const form: Form = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
  return form;
}

const taskList = (text: string | undefined): string[] | undefined => {
  const ids = (text ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  return ids.length > 0 ? ids : undefined;
};

/** Where to go after an action: the `next` it was given (same-site paths only), else `fallback`. */
function nextOf(value: string | undefined, fallback: string): string {
  return value && safeNext(value) === value ? value : fallback;
}

/** The instances an action would change, grouped by task (a mapped task is one line). */
function AffectedList({ preview, verb }: { preview: ActionPreview; verb: string }) {
  if (preview.instances.length === 0) return <p class="muted">No task instance would change.</p>;
  const byTask = new Map<string, ChangedTaskInstance[]>();
  for (const i of preview.instances) byTask.set(i.taskId, [...(byTask.get(i.taskId) ?? []), i]);
  return (
    <>
      <p>
        {preview.instances.length === 1 ? `1 task instance will be ${verb}:` : `${preview.instances.length} task instances will be ${verb}:`}
      </p>
      <ul class="affected">
        {[...byTask].slice(0, 200).map(([taskId, list]) => (
          <li>
            <code>{taskId}</code>
            {list.length > 1 || list[0]!.mapIndex >= 0 ? <span class="muted"> ×{list.length}</span> : null} <StateBadge state={list[0]!.previousState} />
            {list.length > 1 ? <span class="muted small"> …</span> : null}
          </li>
        ))}
        {byTask.size > 200 ? <li class="muted">and {byTask.size - 200} more tasks</li> : null}
      </ul>
    </>
  );
}

/**
 * A confirmation step: what the action does and to what, and the form that posts it. In the
 * dialog (htmx) it is a fragment; without JavaScript a page of its own.
 */
function confirmView(
  c: Context<WebEnv>,
  view: { title: string; action: string; body: Child; fields: Form; submit: string; danger?: boolean; back: string; disabled?: boolean },
): Response | Promise<Response> {
  const dialog = wantsDialog(c);
  const content = (
    <div class="confirm">
      <h2 id="dialog-title">{view.title}</h2>
      <form method="post" action={view.action} id="confirm-form">
        <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
        {Object.entries(view.fields).map(([name, value]) => (value === undefined ? null : <input type="hidden" name={name} value={value} />))}
        {view.body}
        <FormActions submit={view.submit} danger={view.danger === true} disabled={view.disabled} dialog={dialog} back={view.back} />
      </form>
    </div>
  );
  if (dialog) return c.html(content);
  return c.html(
    <Layout c={c} title={view.title} section="dags">
      <section class="card narrow-card">{content}</section>
    </Layout>,
  );
}

/** Checkboxes that change the selection; with htmx, ticking one refreshes the list of what changes. */
function SelectionOptions({ url, options, dialog }: { url: string; options: [name: string, label: string, checked: boolean][]; dialog: boolean }) {
  return (
    <fieldset class="options">
      {options.map(([name, label, checked]) => (
        <label class="check">
          <input type="checkbox" name={name} value="1" checked={checked} hx-get={url} hx-include="closest form" hx-target="#dialog-body" hx-trigger="change" />
          {label}
        </label>
      ))}
      {dialog ? null : (
        // Without the dialog (no JavaScript), the list is updated by reloading this page.
        <button type="submit" class="btn small" formmethod="get">
          Update list
        </button>
      )}
    </fieldset>
  );
}

const params = (c: Context<WebEnv>) => ({ dagId: c.req.param('dagId')!, runId: c.req.param('runId')! });

/** `GET …/runs/:runId/clear?tasks=&downstream=&upstream=&onlyFailed=`: what a clear would do, to confirm. */
export async function clearConfirm(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const q = { tasks: c.req.query('tasks'), downstream: flag(c.req.query('downstream')), upstream: flag(c.req.query('upstream')), onlyFailed: flag(c.req.query('onlyFailed')) };
  const taskIds = taskList(q.tasks);
  const preview = await previewClear(c.get('engine').context, { dagId, runId, taskIds, downstream: q.downstream, upstream: q.upstream, onlyFailed: q.onlyFailed });
  const url = runActionPath(dagId, runId, 'clear');
  return confirmView(c, {
    title: taskIds ? `Clear ${taskIds.length === 1 ? taskIds[0] : `${taskIds.length} tasks`} in ${runId}` : `Clear run ${runId}`,
    action: url,
    fields: { tasks: q.tasks, next: c.req.query('next') },
    body: (
      <>
        <p class="muted">Cleared task instances run again (each gets its retries again); the run goes back to running.</p>
        <SelectionOptions
          dialog={wantsDialog(c)}
          url={url}
          options={[
            ['downstream', 'With downstream tasks', q.downstream],
            ['upstream', 'With upstream tasks', q.upstream],
            ['onlyFailed', 'Only failed ones', q.onlyFailed],
          ]}
        />
        <AffectedList preview={preview} verb="cleared" />
      </>
    ),
    submit: 'Clear',
    back: taskIds?.length === 1 ? taskPath(dagId, runId, taskIds[0]!) : runPath(dagId, runId),
    disabled: preview.instances.length === 0,
  });
}

/** `POST …/runs/:runId/clear`: clear through the same `clearTaskInstances` as the CLI and REST API. */
export async function clearSubmit(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const form = await formOf(c);
  const taskIds = taskList(form.tasks);
  const back = nextOf(form.next, taskIds?.length === 1 ? taskPath(dagId, runId, taskIds[0]!) : runPath(dagId, runId));
  return act(c, back, async () => {
    const changed = await clearTaskInstances(c.get('engine').context, { dagId, runId, taskIds, downstream: flag(form.downstream), upstream: flag(form.upstream), onlyFailed: flag(form.onlyFailed) }, requestActor(c));
    return `Cleared ${changed.length} task instance${changed.length === 1 ? '' : 's'} of ${runId}.`;
  });
}

function markState(value: string | undefined): 'success' | 'failed' {
  return value === 'failed' ? 'failed' : 'success';
}

/** `GET …/runs/:runId/mark?state=&tasks=&downstream=&upstream=`: what marking would change, to confirm. */
export async function markConfirm(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const state = markState(c.req.query('state'));
  const q = { tasks: c.req.query('tasks'), downstream: flag(c.req.query('downstream')), upstream: flag(c.req.query('upstream')) };
  const taskIds = taskList(q.tasks);
  const url = runActionPath(dagId, runId, 'mark');
  const back = taskIds?.length === 1 ? taskPath(dagId, runId, taskIds[0]!) : runPath(dagId, runId);
  if (!taskIds) return confirmView(c, { title: `Mark tasks ${state}`, action: url, fields: {}, body: <p>Choose tasks to mark.</p>, submit: 'Mark', back, disabled: true });
  const preview = await previewMark(c.get('engine').context, { dagId, runId, taskIds, downstream: q.downstream, upstream: q.upstream }, state);
  return confirmView(c, {
    title: `Mark ${taskIds.length === 1 ? taskIds[0] : `${taskIds.length} tasks`} ${state}`,
    action: url,
    fields: { tasks: q.tasks, state, next: c.req.query('next') },
    body: (
      <>
        <p class="muted">
          {preview.runState === 'queued' ? 'The run has not started: nothing can be marked yet. ' : ''}A running instance is stopped at its worker's next heartbeat; downstream tasks then go on as if it had ended {state}.
        </p>
        <SelectionOptions
          dialog={wantsDialog(c)}
          url={url}
          options={[
            ['downstream', 'With downstream tasks', q.downstream],
            ['upstream', 'With upstream tasks', q.upstream],
          ]}
        />
        <AffectedList preview={preview} verb={`marked ${state}`} />
      </>
    ),
    submit: `Mark ${state}`,
    danger: state === 'failed',
    back,
    disabled: preview.instances.length === 0 || preview.runState === 'queued',
  });
}

/** `POST …/runs/:runId/mark`: mark through the same `markTaskInstances` as the CLI and REST API. */
export async function markSubmit(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const form = await formOf(c);
  const state = markState(form.state);
  const taskIds = taskList(form.tasks);
  const back = nextOf(form.next, taskIds?.length === 1 ? taskPath(dagId, runId, taskIds[0]!) : runPath(dagId, runId));
  if (!taskIds) {
    setFlash(c, 'Choose the tasks to mark.', 'error');
    return c.redirect(back, 303);
  }
  return act(c, back, async () => {
    const changed = await markTaskInstances(c.get('engine').context, { dagId, runId, taskIds, downstream: flag(form.downstream), upstream: flag(form.upstream) }, state, requestActor(c));
    return `Marked ${changed.length} task instance${changed.length === 1 ? '' : 's'} ${state}.`;
  });
}

/** `GET …/runs/:runId/cancel`: what cancelling the run would stop, to confirm. */
export async function cancelConfirm(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const preview = await previewCancel(c.get('engine').context, dagId, runId);
  const finished = preview.runState === 'success' || preview.runState === 'failed';
  return confirmView(c, {
    title: `Cancel run ${runId}`,
    action: runActionPath(dagId, runId, 'cancel'),
    fields: { next: c.req.query('next') },
    body: finished ? (
      <p>
        The run already finished (<StateBadge state={preview.runState} />): there is nothing to cancel.
      </p>
    ) : (
      <>
        <p class="muted">Running task instances fail (their workers stop them), the others are skipped, and the run fails.</p>
        <AffectedList preview={preview} verb="stopped" />
      </>
    ),
    submit: 'Cancel run',
    danger: true,
    back: runPath(dagId, runId),
    disabled: finished,
  });
}

/** `POST …/runs/:runId/cancel`: cancel through the same `cancelRun` as the CLI and REST API. */
export async function cancelSubmit(c: Context<WebEnv>): Promise<Response> {
  const { dagId, runId } = params(c);
  const form = await formOf(c);
  return act(c, nextOf(form.next, runPath(dagId, runId)), async () => {
    const changed = await cancelRun(c.get('engine').context, dagId, runId, requestActor(c));
    return `Cancelled run ${runId}: ${changed.length} task instance${changed.length === 1 ? '' : 's'} stopped.`;
  });
}

/** `GET /dags/:dagId/pause?paused=true|false&next=`: confirm pausing or unpausing. */
export async function pauseConfirm(c: Context<WebEnv>): Promise<Response> {
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const paused = flag(c.req.query('paused'));
  return confirmView(c, {
    title: `${paused ? 'Pause' : 'Unpause'} ${dag.dagId}`,
    action: `${dagPath(dag.dagId)}/pause`,
    fields: { paused: paused ? 'true' : 'false', next: c.req.query('next') },
    body: (
      <p>
        {paused
          ? 'While paused, no scheduled runs are created and no new task starts; running tasks finish.'
          : 'Scheduled runs resume from the latest interval (earlier missed ones only with catchup), and waiting runs start.'}
        {dag.isPaused === paused ? <strong> It is already {paused ? 'paused' : 'active'}.</strong> : null}
      </p>
    ),
    submit: paused ? 'Pause' : 'Unpause',
    danger: paused,
    back: nextOf(c.req.query('next'), dagPath(dag.dagId)),
  });
}

/** `POST /dags/:dagId/pause`: pause or unpause through the same `pauseDag` as the CLI and REST API. */
export async function pauseSubmit(c: Context<WebEnv>): Promise<Response> {
  const dagId = c.req.param('dagId')!;
  const form = await formOf(c);
  const paused = flag(form.paused);
  return act(c, nextOf(form.next, dagPath(dagId)), async () => {
    await pauseDag(c.get('engine').context, dagId, paused, requestActor(c));
    return `${paused ? 'Paused' : 'Unpaused'} ${dagId}.`;
  });
}

/**
 * Carry out an action and go back with a notice saying what it did; an action the current state
 * does not allow (a finished run cannot be cancelled) comes back as an error notice. Unknown DAGs,
 * runs and tasks are 404 pages naming them.
 */
async function act(c: Context<WebEnv>, back: string, action: () => Promise<string>): Promise<Response> {
  try {
    setFlash(c, await action());
  } catch (error) {
    if (!(error instanceof TributaryError) || error.code === 'NOT_FOUND') throw error;
    setFlash(c, error.message, 'error');
  }
  return c.redirect(back, 303);
}
