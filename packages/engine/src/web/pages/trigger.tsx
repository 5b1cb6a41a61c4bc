/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { ParamsValidationError, TributaryError } from '../../errors.js';
import { getDagCached, type DagDetail } from '../../service/dag-details.js';
import { triggerDag } from '../../service/runs.js';
import { requestActor } from '../auth/middleware.js';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { PageHeading } from './components.js';
import { Layout } from './layout.js';
import { paramFields, readParams, type ParamField } from './params-form.js';
import { dagPath } from './paths.js';

/** What the form shows again after a failed submit: the text entered and a message per field. */
interface TriggerFormState {
  submitted: Record<string, string | undefined> | null;
  /** Message per param name, or `_runId`, `_logicalDate`, `_conf`, `_form`. */
  errors: Record<string, string>;
}

function FieldError({ message, id }: { message: string | undefined; id: string }) {
  return message ? (
    <p class="field-error" id={id} role="alert">
      {message}
    </p>
  ) : null;
}

function ParamInput({ f, error }: { f: ParamField; error: string | undefined }) {
  const id = `f-${f.name}`;
  const common = { id, name: f.field, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': error ? `${id}-error` : undefined, required: f.required };
  switch (f.input) {
    case 'checkbox':
      return <input type="checkbox" {...common} checked={f.checked} required={false} />;
    case 'select':
      return (
        <select {...common}>
          {f.required ? null : <option value="">(default)</option>}
          {f.options.map((o) => (
            <option value={o.value} selected={o.value === f.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
    case 'json':
    case 'textarea':
      return (
        <textarea {...common} rows={f.input === 'json' ? 4 : 3} class={f.input === 'json' ? 'mono' : undefined} spellcheck={false}>
          {f.value}
        </textarea>
      );
    case 'integer':
    case 'number':
      // Type text, not number: the browser would drop what it cannot read, and the message would be lost.
      return <input type="text" inputmode={f.input === 'integer' ? 'numeric' : 'decimal'} {...common} value={f.value} />;
    case 'date':
      return <input type="date" {...common} value={f.value} />;
    case 'datetime':
      return <input type="datetime-local" {...common} value={f.value} />;
    default:
      return <input type="text" {...common} value={f.value} />;
  }
}

function TriggerForm({ c, dag, state }: { c: Context<WebEnv>; dag: DagDetail; state: TriggerFormState }) {
  const schema = dag.definition?.params ?? null;
  const fields = paramFields(schema, state.submitted);
  const e = state.errors;
  const text = (name: string) => state.submitted?.[name] ?? '';
  return (
    <form class="card form trigger-form" method="post" action={dagPath(dag.dagId, 'trigger')} novalidate>
      <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
      {e._form ? (
        <p class="notice error" role="alert">
          {e._form}
        </p>
      ) : null}
      {Object.keys(e).some((k) => k !== '_form') ? (
        <p class="notice error" role="alert">
          Nothing was triggered: fix the fields marked below.
        </p>
      ) : null}
      {dag.isPaused ? <p class="notice warn">This DAG is paused: the run is created now and starts when the DAG is unpaused.</p> : null}
      <h2>Params</h2>
      {schema === null ? (
        <div class={`field${e._conf ? ' invalid' : ''}`}>
          <label for="f-conf">Params (JSON object)</label>
          <textarea id="f-conf" name="_conf" rows={5} class="mono" spellcheck={false}>
            {state.submitted ? text('_conf') : '{}'}
          </textarea>
          <p class="hint">This DAG declares no params schema; any JSON object is accepted.</p>
          <FieldError message={e._conf} id="f-conf-error" />
        </div>
      ) : fields.length === 0 ? (
        <p class="muted">This DAG takes no params.</p>
      ) : (
        fields.map((f) => (
          <div class={`field${f.input === 'checkbox' ? ' check' : ''}${e[f.name] ? ' invalid' : ''}`} data-param={f.name}>
            <label for={`f-${f.name}`}>
              {f.label}
              {f.required ? <span class="req" title="required"> *</span> : null}
              {f.label !== f.name ? <code class="muted small"> {f.name}</code> : null}
            </label>
            <ParamInput f={f} error={e[f.name]} />
            {f.description || f.hints.length ? (
              <p class="hint">
                {f.description}
                {f.description && f.hints.length ? ' · ' : ''}
                {f.hints.join(' · ')}
              </p>
            ) : null}
            <FieldError message={e[f.name] ? `${f.name} ${e[f.name]}` : undefined} id={`f-${f.name}-error`} />
          </div>
        ))
      )}
      <details class="advanced" open={Boolean(e._runId || e._logicalDate)}>
        <summary>Run id and logical date</summary>
        <div class={`field${e._runId ? ' invalid' : ''}`}>
          <label for="f-run-id">Run id</label>
          <input type="text" id="f-run-id" name="_runId" value={text('_runId')} placeholder="manual__<logical date>" />
          <FieldError message={e._runId} id="f-run-id-error" />
        </div>
        <div class={`field${e._logicalDate ? ' invalid' : ''}`}>
          <label for="f-logical-date">Logical date (UTC)</label>
          <input type="datetime-local" id="f-logical-date" name="_logicalDate" value={text('_logicalDate')} step="1" />
          <p class="hint">Now when left empty.</p>
          <FieldError message={e._logicalDate} id="f-logical-date-error" />
        </div>
      </details>
      <div class="form-actions">
        <button type="submit" class="btn primary">
          ▶ Trigger run
        </button>
        <a class="btn ghost" href={dagPath(dag.dagId)}>
          Cancel
        </a>
      </div>
    </form>
  );
}

function page(c: Context<WebEnv>, dag: DagDetail, state: TriggerFormState, status: 200 | 400 | 409 = 200) {
  return c.html(
    <Layout c={c} title={`Trigger ${dag.dagId}`} section="dags">
      <PageHeading crumbs={[['DAGs', '/'], [dag.dagId, dagPath(dag.dagId)], ['trigger', null]]} title={`Trigger ${dag.dagId}`} sub={dag.description ? <p class="desc">{dag.description}</p> : undefined} />
      <TriggerForm c={c} dag={dag} state={state} />
    </Layout>,
    status,
  );
}

/** `GET /dags/:dagId/trigger`: the trigger form generated from the DAG's params schema. */
export async function triggerPage(c: Context<WebEnv>): Promise<Response> {
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  return page(c, dag, { submitted: null, errors: {} });
}

/**
 * `POST /dags/:dagId/trigger`: trigger through the same `triggerDag` as the CLI and REST API. Invalid
 * params come back as the form with each message beside its field (400), and nothing is created.
 */
export async function triggerSubmit(c: Context<WebEnv>): Promise<Response> {
  const engine = c.get('engine');
  const dag = await getDagCached(engine.context, c.req.param('dagId')!);
  const body = await c.req.parseBody();
  const form: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
  const schema = dag.definition?.params ?? null;
  const errors: Record<string, string> = {};
  let params: Record<string, unknown> = {};
  if (schema === null) {
    try {
      const parsed: unknown = JSON.parse(form._conf?.trim() || '{}');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) errors._conf = 'must be a JSON object';
      else params = parsed as Record<string, unknown>;
    } catch (error) {
      errors._conf = `is not valid JSON: ${(error as Error).message}`;
    }
  } else {
    const read = readParams(paramFields(schema), form);
    params = read.params;
    Object.assign(errors, read.errors);
  }
  const runId = form._runId?.trim() || undefined;
  const dateText = form._logicalDate?.trim();
  let logicalDate: Date | undefined;
  if (dateText) {
    const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(dateText) ? dateText : `${dateText}Z`);
    if (Number.isNaN(date.getTime())) errors._logicalDate = `'${dateText}' is not a date and time`;
    else logicalDate = date;
  }
  if (Object.keys(errors).length > 0) return page(c, dag, { submitted: form, errors }, 400);
  const actor = requestActor(c);
  try {
    const run = await triggerDag(engine.context, dag.dagId, { params, runId, logicalDate, triggeredBy: actor.name, actor });
    setFlash(c, `Triggered run ${run.run_id}.`);
    return c.redirect(dagPath(dag.dagId), 303);
  } catch (error) {
    if (error instanceof ParamsValidationError) {
      for (const issue of error.issues) {
        const name = issue.path.split('.')[0] ?? '';
        const key = name === '' ? '_form' : name;
        errors[key] = errors[key] ? `${errors[key]}; ${issue.message}` : issue.path.includes('.') ? `${issue.path.slice(name.length + 1)} ${issue.message}` : issue.message;
      }
      // A param the form has no field for (or a root problem): say it at the top.
      const known = new Set(paramFields(schema).map((f) => f.name));
      for (const key of Object.keys(errors)) {
        if (key !== '_form' && !known.has(key)) errors._form = `${errors._form ? `${errors._form}; ` : ''}${key} ${errors[key]}`;
      }
      return page(c, dag, { submitted: form, errors }, 400);
    }
    if (error instanceof TributaryError && error.code === 'RUN_EXISTS') return page(c, dag, { submitted: form, errors: { _runId: error.message } }, 409);
    if (error instanceof TributaryError && error.location.field === 'runId') return page(c, dag, { submitted: form, errors: { _runId: error.message } }, 400);
    if (error instanceof TributaryError && error.code.endsWith('_INVALID')) return page(c, dag, { submitted: form, errors: { _form: error.message } }, 400);
    throw error;
  }
}
