/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { TributaryError } from '../../errors.js';
import { hasRole } from '../../service/users.js';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { wantsDialog } from './access.js';
import { ConfirmLink, FormActions, PageHeading } from './components.js';
import { Layout, type NavSection } from './layout.js';
import { adminPath, type AdminList } from './paths.js';

/** Rows per page of the admin lists (pools, variables, connections, users). */
export const ADMIN_PAGE_SIZE = 100;

/** Whether the signed-in user may manage users, pools, variables and connections. */
export function canAdmin(c: Context<WebEnv>): boolean {
  const user = c.get('user');
  return user !== null && hasRole(user.role, 'admin');
}

/** A form's text fields (files and repeated fields ignored), trimmed unless named in `raw`. */
export async function formFields(c: Context<WebEnv>, raw: readonly string[] = []): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = raw.includes(name) ? value : value.trim();
  return fields;
}

/** What went wrong with a submitted form: the field at fault (null for the whole form) and why. */
export interface FormError {
  field: string | null;
  message: string;
}

/**
 * The form error for what a service function threw: its message under the field it names, with
 * 409 for conflicts (already exists, not allowed in this state) and 400 otherwise. Unknown objects
 * (404) and unexpected errors are rethrown to become error pages.
 */
export function formErrorOf(error: unknown): { error: FormError; status: 400 | 409 } {
  if (!(error instanceof TributaryError) || error.code === 'NOT_FOUND') throw error;
  const conflict = error.code === 'ALREADY_EXISTS' || error.code === 'INVALID_STATE';
  return { error: { field: error.location.field ?? null, message: error.message }, status: conflict ? 409 : 400 };
}

/** One labelled form field, marked invalid with its message when `error` names it. */
export function Field({ id, name, label, error, hint, children }: { id: string; name: string; label: string; error?: FormError | undefined; hint?: Child; children: Child }) {
  const invalid = error?.field === name;
  return (
    <div class={`field${invalid ? ' invalid' : ''}`} data-field={name}>
      <label for={id}>{label}</label>
      {children}
      {hint ? <p class="hint">{hint}</p> : null}
      {invalid ? (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error.message}
        </p>
      ) : null}
    </div>
  );
}

/** A text input for {@link Field}, pointing screen readers at its error. */
export function TextInput({ id, name, value, error, ...rest }: { id: string; name: string; value: string; error?: FormError | undefined } & Record<string, unknown>) {
  const invalid = error?.field === name;
  return <input type="text" id={id} name={name} value={value} aria-invalid={invalid ? 'true' : undefined} aria-describedby={invalid ? `${id}-error` : undefined} {...rest} />;
}

/**
 * A page holding one admin form: heading with breadcrumbs, the form posting to `action` with the
 * CSRF field, an error for the whole form at its top, and Save/Cancel.
 */
export function formPage(
  c: Context<WebEnv>,
  view: { title: string; section: NavSection; crumbs: readonly [string, string | null][]; action: string; error?: FormError | undefined; submit: string; back: string; intro?: Child; children: Child },
  status: 200 | 400 | 409 = 200,
): Response | Promise<Response> {
  return c.html(
    <Layout c={c} title={view.title} section={view.section}>
      <PageHeading crumbs={view.crumbs} title={view.title} sub={view.intro ? <p class="desc">{view.intro}</p> : undefined} />
      <form class="card form" method="post" action={view.action} novalidate>
        <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
        {view.error && view.error.field === null ? (
          <p class="notice error" role="alert">
            {view.error.message}
          </p>
        ) : null}
        {view.children}
        <div class="form-actions">
          <button type="submit" class="btn primary">
            {view.submit}
          </button>
          <a class="btn ghost" href={view.back}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>,
    status,
  );
}

/**
 * A confirmation step for an admin action (delete, disable, reset a password): what it does, and
 * the form that posts it. In the dialog with htmx, a page of its own without JavaScript.
 */
export function confirmStep(
  c: Context<WebEnv>,
  view: { title: string; action: string; body: Child; submit: string; back: string; section: NavSection; danger?: boolean; fields?: Record<string, string> },
): Response | Promise<Response> {
  const dialog = wantsDialog(c);
  const content = (
    <div class="confirm">
      <h2 id="dialog-title">{view.title}</h2>
      <form method="post" action={view.action} id="confirm-form">
        <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
        {Object.entries(view.fields ?? {}).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        {view.body}
        <FormActions submit={view.submit} danger={view.danger !== false} dialog={dialog} back={view.back} />
      </form>
    </div>
  );
  if (dialog) return c.html(content);
  return c.html(
    <Layout c={c} title={view.title} section={view.section}>
      <section class="card narrow-card">{content}</section>
    </Layout>,
  );
}

/**
 * A page showing a secret once (a generated password, a new API token): it is in this response only,
 * which no cache may keep.
 */
export function secretOnce(c: Context<WebEnv>, view: { title: string; label: string; secret: string; note: Child; back: string; backLabel: string; section: NavSection }): Response | Promise<Response> {
  c.header('Cache-Control', 'no-store');
  return c.html(
    <Layout c={c} title={view.title} section={view.section}>
      <PageHeading title={view.title} />
      <section class="card narrow-card secret-once">
        <p class="notice warn" role="status">
          Copy it now: it is shown this once and cannot be read again.
        </p>
        <div class="field">
          <label for="secret-value">{view.label}</label>
          <input type="text" id="secret-value" class="mono" readonly value={view.secret} autocomplete="off" spellcheck={false} />
        </div>
        <p class="muted">{view.note}</p>
        <a class="btn primary" href={view.back}>
          {view.backLabel}
        </a>
      </section>
    </Layout>,
  );
}

/** The note under a read-only list telling non-admins who can change it. */
export function AdminOnlyNote({ what }: { what: string }) {
  return <p class="muted small">Only admins can change {what}.</p>;
}

/** The Edit and Delete… buttons of a row of an admin list (`deletable: false` leaves Delete out). */
export function RowActions({ list, id, deletable = true }: { list: AdminList; id: string; deletable?: boolean }) {
  return (
    <td>
      <div class="actions">
        <a class="btn small" href={adminPath(list, id, 'edit')}>
          Edit
        </a>
        {deletable ? (
          <ConfirmLink href={adminPath(list, id, 'delete')} variant="danger">
            Delete…
          </ConfirmLink>
        ) : null}
      </div>
    </td>
  );
}
