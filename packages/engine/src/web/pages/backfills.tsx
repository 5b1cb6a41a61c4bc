/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { TributaryError } from '../../errors.js';
import { cancelBackfill, createBackfill, getBackfill, listBackfills, type BackfillSummary, type PlannedBackfillRun } from '../../service/backfill.js';
import { getDagCached, type DagDetail } from '../../service/dag-details.js';
import { BACKFILL_REPROCESS } from '../../schedule/backfill.js';
import { requestActor } from '../auth/middleware.js';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { setFlash, wantsDialog } from './access.js';
import { ConfirmLink, PageHeading, StateBadge, Time } from './components.js';
import { canOperate } from './dag-header.js';
import { formatTime } from './format.js';
import { Layout } from './layout.js';
import { dagPath, flag, intParam, withQuery } from './paths.js';

function Progress({ b }: { b: BackfillSummary }) {
  const o = b.outcomes;
  const total = Object.values(o).reduce((a, n) => a + n, 0);
  const done = total - o.pending;
  return (
    <span title={`created ${o.created}, cleared ${o.cleared}, kept ${o.exists}, in flight ${o.in_flight}, cancelled ${o.cancelled}, pending ${o.pending}`}>
      <progress max={total || 1} value={done}></progress> <span class="small">{`${done}/${total}`}</span>
    </span>
  );
}

/** `GET /backfills?dagId=`: backfills, newest first, with their progress. */
export async function backfillsPage(c: Context<WebEnv>): Promise<Response> {
  const dagId = c.req.query('dagId') || undefined;
  const backfills = await listBackfills(c.get('engine').db, { dagId, limit: 200 });
  const operate = canOperate(c);
  return c.html(
    <Layout c={c} title="Backfills" section="backfills">
      <PageHeading title="Backfills" sub={<p class="desc">Runs over past intervals, carried out by the scheduler a few at a time. Start one from a DAG's page.</p>} />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th class="num">Id</th>
              <th>DAG</th>
              <th>From</th>
              <th>To</th>
              <th>Reprocess</th>
              <th>State</th>
              <th>Progress</th>
              <th class="num">Active runs</th>
              <th>Created</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {backfills.length === 0 ? (
              <tr>
                <td colspan={10} class="empty">
                  No backfills.
                </td>
              </tr>
            ) : null}
            {backfills.map((b) => (
              <tr>
                <td class="num">{b.id}</td>
                <td>
                  <a href={dagPath(b.dagId)}>{b.dagId}</a>
                </td>
                <td>
                  <Time date={b.from} />
                </td>
                <td>
                  <Time date={b.to} />
                </td>
                <td>
                  {b.reprocess}
                  {b.runBackwards ? ', backwards' : ''}
                </td>
                <td>
                  <StateBadge state={b.state} />
                </td>
                <td>
                  <Progress b={b} />
                </td>
                <td class="num">{b.activeRuns}</td>
                <td>
                  <Time date={b.createdAt} /> <span class="muted small">{b.createdBy ?? ''}</span>
                </td>
                <td>{operate && b.state === 'running' ? <ConfirmLink href={`/backfills/${b.id}/cancel`} variant="danger">Cancel…</ConfirmLink> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>,
  );
}

/** `GET /backfills/:id/cancel`: confirm cancelling a running backfill. */
export async function backfillCancelConfirm(c: Context<WebEnv>): Promise<Response> {
  const b = await getBackfill(c.get('engine').db, intParam(c.req.param('id'), -1));
  const content = (
    <div class="confirm">
      <h2 id="dialog-title">Cancel backfill {b.id} of {b.dagId}</h2>
      <p>It creates no more runs; its runs that have not started fail, those running finish.</p>
      <form method="post" action={`/backfills/${b.id}/cancel`}>
        <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
        <div class="form-actions">
          <button type="submit" class="btn danger" disabled={b.state !== 'running'}>
            Cancel backfill
          </button>
          {wantsDialog(c) ? <button type="button" class="btn ghost" data-close-dialog="true">Keep it</button> : <a class="btn ghost" href="/backfills">Keep it</a>}
        </div>
      </form>
    </div>
  );
  if (wantsDialog(c)) return c.html(content);
  return c.html(
    <Layout c={c} title="Cancel backfill" section="backfills">
      <section class="card narrow-card">{content}</section>
    </Layout>,
  );
}

/** `POST /backfills/:id/cancel`: cancel through the same `cancelBackfill` as the CLI. */
export async function backfillCancelSubmit(c: Context<WebEnv>): Promise<Response> {
  const id = intParam(c.req.param('id'), -1);
  try {
    await cancelBackfill(c.get('engine').context, id, requestActor(c));
    setFlash(c, `Cancelled backfill ${id}.`);
  } catch (error) {
    if (!(error instanceof TributaryError) || error.code === 'NOT_FOUND') throw error;
    setFlash(c, error.message, 'error');
  }
  return c.redirect('/backfills', 303);
}

interface BackfillForm {
  from: string;
  to: string;
  reprocess: string;
  maxActiveRuns: string;
  runBackwards: boolean;
  params: string;
}

function PlanTable({ plan }: { plan: PlannedBackfillRun[] }) {
  const counts = { create: 0, clear: 0, exists: 0, in_flight: 0 };
  for (const p of plan) counts[p.action]++;
  return (
    <>
      <p>
        <strong>{plan.length}</strong> intervals: {counts.create} new runs, {counts.clear} runs cleared to run again, {counts.exists} kept, {counts.in_flight} left running.
      </p>
      <table class="table compact">
        <thead>
          <tr>
            <th>Logical date</th>
            <th>Data interval end</th>
            <th>Action</th>
            <th>Existing run</th>
          </tr>
        </thead>
        <tbody>
          {plan.slice(0, 100).map((p) => (
            <tr>
              <td>{formatTime(p.logicalDate)}</td>
              <td>{formatTime(p.dataInterval.end)}</td>
              <td>{p.action.replace('_', ' ')}</td>
              <td>{p.existing ? <StateBadge state={p.existing.state} /> : <span class="muted">–</span>}</td>
            </tr>
          ))}
          {plan.length > 100 ? (
            <tr>
              <td colspan={4} class="muted">
                and {plan.length - 100} more
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}

function backfillPage(c: Context<WebEnv>, dag: DagDetail, form: BackfillForm, extra: { error?: { field: string | null; message: string }; plan?: PlannedBackfillRun[] }, status: 200 | 400 | 409 = 200) {
  const err = (field: string) => (extra.error?.field === field ? <p class="field-error" role="alert">{extra.error.message}</p> : null);
  return c.html(
    <Layout c={c} title={`Backfill ${dag.dagId}`} section="dags">
      <PageHeading crumbs={[['DAGs', '/'], [dag.dagId, dagPath(dag.dagId)], ['backfill', null]]} title={`Backfill ${dag.dagId}`} sub={<p class="desc">Run the DAG for every scheduled interval between two logical dates; the scheduler carries it out.</p>} />
      <form class="card form" method="post" action={dagPath(dag.dagId, 'backfill')} novalidate>
        <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
        {extra.error && extra.error.field === null ? (
          <p class="notice error" role="alert">
            {extra.error.message}
          </p>
        ) : null}
        <div class="field-row">
          <div class={`field${extra.error?.field === 'from' ? ' invalid' : ''}`}>
            <label for="b-from">From (logical date)</label>
            <input type="datetime-local" id="b-from" name="from" value={form.from} step="1" />
            {err('from')}
          </div>
          <div class={`field${extra.error?.field === 'to' ? ' invalid' : ''}`}>
            <label for="b-to">To (inclusive)</label>
            <input type="datetime-local" id="b-to" name="to" value={form.to} step="1" />
            {err('to')}
          </div>
        </div>
        <p class="hint">In the DAG's time zone, {dag.timezone}.</p>
        <div class="field-row">
          <div class="field">
            <label for="b-reprocess">Existing runs</label>
            <select id="b-reprocess" name="reprocess">
              {BACKFILL_REPROCESS.map((r) => (
                <option value={r} selected={form.reprocess === r}>
                  {r === 'none' ? 'keep them' : r === 'failed' ? 'run failed ones again' : 'run every completed one again'}
                </option>
              ))}
            </select>
          </div>
          <div class={`field${extra.error?.field === 'maxActiveRuns' ? ' invalid' : ''}`}>
            <label for="b-max">Runs at once</label>
            <input type="text" inputmode="numeric" id="b-max" name="maxActiveRuns" value={form.maxActiveRuns} placeholder={String(dag.maxActiveRuns)} />
            {err('maxActiveRuns')}
          </div>
        </div>
        <label class="check">
          <input type="checkbox" name="runBackwards" value="1" checked={form.runBackwards} /> Newest interval first
        </label>
        <div class={`field${extra.error?.field === 'params' ? ' invalid' : ''}`}>
          <label for="b-params">Params (JSON object; the DAG's defaults fill the rest)</label>
          <textarea id="b-params" name="params" rows={3} class="mono" spellcheck={false}>
            {form.params}
          </textarea>
          {err('params')}
        </div>
        {extra.plan ? (
          <section class="plan">
            <h2>Plan</h2>
            <PlanTable plan={extra.plan} />
          </section>
        ) : null}
        <div class="form-actions">
          <button type="submit" name="dryRun" value="1" class={`btn${extra.plan ? '' : ' primary'}`}>
            Preview plan
          </button>
          {extra.plan && extra.plan.length > 0 ? (
            <button type="submit" class="btn primary">
              Start backfill
            </button>
          ) : null}
          <a class="btn ghost" href={dagPath(dag.dagId)}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>,
    status,
  );
}

/** `GET /dags/:dagId/backfill`: the backfill form. */
export async function backfillFormPage(c: Context<WebEnv>): Promise<Response> {
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  return backfillPage(c, dag, { from: '', to: '', reprocess: 'none', maxActiveRuns: '', runBackwards: false, params: '{}' }, {});
}

/**
 * `POST /dags/:dagId/backfill`: with `dryRun`, the plan to confirm (nothing stored); without, the
 * backfill is created through the same `createBackfill` as the CLI. Errors name their field.
 */
export async function backfillSubmit(c: Context<WebEnv>): Promise<Response> {
  const engine = c.get('engine');
  const dag = await getDagCached(engine.context, c.req.param('dagId')!);
  const body = await c.req.parseBody();
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const form: BackfillForm = { from: text('from'), to: text('to'), reprocess: text('reprocess') || 'none', maxActiveRuns: text('maxActiveRuns'), runBackwards: flag(body.runBackwards), params: text('params') || '{}' };
  const fail = (field: string | null, message: string, status: 400 | 409 = 400) => backfillPage(c, dag, form, { error: { field, message } }, status);
  if (!form.from) return fail('from', 'give the first logical date');
  if (!form.to) return fail('to', 'give the last logical date');
  let params: unknown;
  try {
    params = JSON.parse(form.params);
  } catch (error) {
    return fail('params', `is not valid JSON: ${(error as Error).message}`);
  }
  const maxActiveRuns = form.maxActiveRuns ? Number(form.maxActiveRuns) : undefined;
  const dryRun = flag(body.dryRun);
  try {
    const result = await createBackfill(
      engine.context,
      { dagId: dag.dagId, from: form.from, to: form.to, reprocess: form.reprocess as never, maxActiveRuns, runBackwards: form.runBackwards, params, dryRun },
      requestActor(c),
    );
    if (dryRun) return backfillPage(c, dag, form, { plan: result.plan });
    setFlash(c, `Backfill ${result.backfill?.id} of ${dag.dagId} started: ${result.plan.length} intervals.${result.dagPaused ? ' The DAG is paused: its runs wait until it is unpaused.' : ''}`);
    return c.redirect(withQuery('/backfills', { dagId: dag.dagId }), 303);
  } catch (error) {
    if (!(error instanceof TributaryError) || error.code === 'NOT_FOUND') throw error;
    const field = error.location.field ?? (error.code === 'PARAMS_INVALID' ? 'params' : null);
    return fail(field, error.message, error.code === 'ALREADY_EXISTS' ? 409 : 400);
  }
}
