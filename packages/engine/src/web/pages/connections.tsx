/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { countConnections, createConnection, deleteConnection, getConnection, listConnections, updateConnection, type ConnectionFields } from '../../service/connections.js';
import { MASK } from '../../service/secrets.js';
import { requestActor } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { ADMIN_PAGE_SIZE, AdminOnlyNote, RowActions, canAdmin, confirmStep, Field, formErrorOf, formFields, formPage, TextInput, type FormError } from './admin-forms.js';
import { JsonBlock, Pager, PageHeading, Time } from './components.js';
import { prettyJson } from './format.js';
import { Layout } from './layout.js';
import { adminPath, flag, intParam } from './paths.js';

/** `GET /connections?offset=`: connections with passwords and secret-looking extras masked; admins get the forms. */
export async function connectionsPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const offset = intParam(c.req.query('offset'), 0, 0);
  const [connections, total] = await Promise.all([listConnections(db, { limit: ADMIN_PAGE_SIZE, offset }), countConnections(db)]);
  const admin = canAdmin(c);
  return c.html(
    <Layout c={c} title="Connections" section="connections">
      <PageHeading
        title="Connections"
        sub={<p class="desc">Passwords and secret-looking extras are never shown.</p>}
        actions={admin ? <a class="btn primary" href={adminPath('connections', undefined, 'new')}>New connection</a> : undefined}
      />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>Connection</th>
              <th>Type</th>
              <th>Host</th>
              <th>Schema</th>
              <th>Login</th>
              <th>Password</th>
              <th>Extra</th>
              <th>Updated</th>
              {admin ? <th></th> : null}
            </tr>
          </thead>
          <tbody>
            {connections.length === 0 ? (
              <tr>
                <td colspan={admin ? 9 : 8} class="empty">
                  No connections.
                </td>
              </tr>
            ) : null}
            {connections.map((conn) => (
              <tr>
                <td>
                  <code>{conn.connId}</code>
                  {conn.description ? <div class="muted small">{conn.description}</div> : null}
                </td>
                <td>{conn.connType}</td>
                <td>{conn.host ? `${conn.host}${conn.port ? `:${conn.port}` : ''}` : '–'}</td>
                <td>{conn.schema ?? '–'}</td>
                <td>{conn.login ?? '–'}</td>
                <td>{conn.password === null ? <span class="muted">none</span> : <span class="masked">{MASK}</span>}</td>
                <td class="value-cell">
                  <JsonBlock value={conn.extra} empty="–" />
                </td>
                <td>
                  <Time date={conn.updatedAt} />
                </td>
                {admin ? <RowActions list="connections" id={conn.connId} /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Pager path="/connections" query={{}} offset={offset} limit={ADMIN_PAGE_SIZE} shown={connections.length} total={total} />
      {admin ? null : <AdminOnlyNote what="connections" />}
    </Layout>,
  );
}

/** The text of the form's fields. The password is never part of it: the box always starts empty. */
interface ConnectionForm {
  connId: string;
  connType: string;
  description: string;
  host: string;
  port: string;
  schema: string;
  login: string;
  extra: string;
}

const FORM_FIELDS = ['connId', 'connType', 'description', 'host', 'port', 'schema', 'login', 'extra'] as const;

function connectionForm(c: Context<WebEnv>, form: ConnectionForm, editing: { hasPassword: boolean } | null, error?: FormError, status: 200 | 400 | 409 = 200) {
  const text = (name: Exclude<keyof ConnectionForm, 'extra'>, label: string, extra: Record<string, unknown> = {}) => (
    <Field id={`c-${name}`} name={name} label={label} error={error}>
      <TextInput id={`c-${name}`} name={name} value={form[name]} error={error} {...extra} />
    </Field>
  );
  return formPage(
    c,
    {
      title: editing ? `Edit connection ${form.connId}` : 'New connection',
      section: 'connections',
      crumbs: [['Connections', '/connections'], [editing ? form.connId : 'new', null]],
      action: editing ? adminPath('connections', form.connId, 'edit') : adminPath('connections', undefined, 'new'),
      error,
      submit: editing ? 'Save' : 'Create connection',
      back: '/connections',
      children: (
        <>
          {editing ? null : text('connId', 'Connection id', { required: true, autofocus: true })}
          <div class="field-row">
            {text('connType', 'Type', { required: true, placeholder: 'postgres, http, s3, …' })}
            {text('description', 'Description')}
          </div>
          <div class="field-row">
            {text('host', 'Host')}
            {text('port', 'Port', { inputmode: 'numeric' })}
          </div>
          <div class="field-row">
            {text('schema', 'Schema')}
            {text('login', 'Login', { autocomplete: 'off' })}
          </div>
          <Field
            id="c-password"
            name="password"
            label="Password"
            error={error}
            hint={editing ? (editing.hasPassword ? 'A password is stored; it is never shown. Leave this empty to keep it.' : 'None stored.') : undefined}
          >
            <input type="password" id="c-password" name="password" value="" autocomplete="new-password" />
          </Field>
          {editing?.hasPassword ? (
            <label class="check">
              <input type="checkbox" name="removePassword" value="1" /> Remove the stored password
            </label>
          ) : null}
          <Field id="c-extra" name="extra" label="Extra (JSON object)" error={error} hint={editing ? `Secret-looking keys read as "${MASK}"; left as they are, they keep their stored values.` : undefined}>
            <textarea id="c-extra" name="extra" rows={5} class="mono" spellcheck={false}>
              {form.extra}
            </textarea>
          </Field>
        </>
      ),
    },
    status,
  );
}

/** The fields as the service takes them, or the form error naming the one that is not readable. */
function fieldsOf(form: ConnectionForm): Required<Omit<ConnectionFields, 'password'>> | FormError {
  let port: number | null = null;
  if (form.port !== '') {
    if (!/^\d+$/.test(form.port)) return { field: 'port', message: `port: expected a port number 1-65535, got '${form.port}'` };
    port = Number(form.port);
  }
  let extra: unknown = {};
  if (form.extra !== '') {
    try {
      extra = JSON.parse(form.extra);
    } catch (error) {
      return { field: 'extra', message: `extra: not valid JSON (${(error as Error).message})` };
    }
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) return { field: 'extra', message: 'extra: expected a JSON object such as {"sslmode": "require"}' };
  }
  const orNull = (v: string) => (v === '' ? null : v);
  return {
    connType: form.connType,
    description: orNull(form.description),
    host: orNull(form.host),
    port,
    schema: orNull(form.schema),
    login: orNull(form.login),
    extra: extra as Record<string, unknown>,
  };
}

async function readForm(c: Context<WebEnv>): Promise<{ form: ConnectionForm; password: string; removePassword: boolean }> {
  const fields = await formFields(c, ['password', 'extra']);
  const form = Object.fromEntries(FORM_FIELDS.map((name) => [name, fields[name] ?? ''])) as unknown as ConnectionForm;
  form.extra = form.extra.trim();
  return { form, password: fields.password ?? '', removePassword: flag(fields.removePassword) };
}

const EMPTY: ConnectionForm = { connId: '', connType: '', description: '', host: '', port: '', schema: '', login: '', extra: '' };

/** `GET /connections/new`: the form for a new connection (admins). */
export function connectionNewPage(c: Context<WebEnv>): Response | Promise<Response> {
  return connectionForm(c, EMPTY, null);
}

/** `POST /connections/new`: create through the same `createConnection` as the CLI and REST API. */
export async function connectionCreateSubmit(c: Context<WebEnv>): Promise<Response> {
  const { form, password } = await readForm(c);
  const fields = fieldsOf(form);
  if ('message' in fields) return connectionForm(c, form, null, fields, 400);
  try {
    await createConnection(c.get('engine').db, form.connId, { ...fields, password: password === '' ? null : password }, requestActor(c));
    setFlash(c, `Created connection ${form.connId}.`);
    return c.redirect('/connections', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return connectionForm(c, form, null, failed.error, failed.status);
  }
}

/** `GET /connections/:connId/edit`: the form with the stored fields; the password never, extras masked. */
export async function connectionEditPage(c: Context<WebEnv>): Promise<Response> {
  const conn = await getConnection(c.get('engine').db, c.req.param('connId')!);
  const form: ConnectionForm = {
    connId: conn.connId, connType: conn.connType, description: conn.description ?? '', host: conn.host ?? '', port: conn.port === null ? '' : String(conn.port),
    schema: conn.schema ?? '', login: conn.login ?? '', extra: Object.keys(conn.extra).length ? prettyJson(conn.extra) : '',
  };
  return connectionForm(c, form, { hasPassword: conn.password !== null });
}

/**
 * `POST /connections/:connId/edit`: change through the same `updateConnection` as the CLI and REST
 * API. An empty password keeps the stored one; masked extras keep their stored values.
 */
export async function connectionEditSubmit(c: Context<WebEnv>): Promise<Response> {
  const connId = c.req.param('connId')!;
  const { db } = c.get('engine');
  const current = await getConnection(db, connId);
  const { form, password, removePassword } = await readForm(c);
  form.connId = connId;
  const editing = { hasPassword: current.password !== null };
  const fields = fieldsOf(form);
  if ('message' in fields) return connectionForm(c, form, editing, fields, 400);
  const passwordChange = removePassword ? { password: null } : password === '' ? {} : { password };
  try {
    await updateConnection(db, connId, { ...fields, ...passwordChange }, requestActor(c));
    setFlash(c, `Saved connection ${connId}${removePassword ? ' (password removed)' : password === '' && editing.hasPassword ? ' (password kept)' : ''}.`);
    return c.redirect('/connections', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return connectionForm(c, form, editing, failed.error, failed.status);
  }
}

/** `GET /connections/:connId/delete`: confirm deleting a connection. */
export async function connectionDeleteConfirm(c: Context<WebEnv>): Promise<Response> {
  const conn = await getConnection(c.get('engine').db, c.req.param('connId')!);
  return confirmStep(c, {
    title: `Delete connection ${conn.connId}`,
    action: adminPath('connections', conn.connId, 'delete'),
    body: <p>Tasks and sensors that use it fail until it exists again.</p>,
    submit: 'Delete connection',
    back: '/connections',
    section: 'connections',
  });
}

/** `POST /connections/:connId/delete`: delete through the same `deleteConnection` as the CLI and REST API. */
export async function connectionDeleteSubmit(c: Context<WebEnv>): Promise<Response> {
  const connId = c.req.param('connId')!;
  await deleteConnection(c.get('engine').db, connId, requestActor(c));
  setFlash(c, `Deleted connection ${connId}.`);
  return c.redirect('/connections', 303);
}
