/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { isSensitiveName, MASK } from '../../service/secrets.js';
import { countVariables, createVariable, deleteVariable, getVariable, listVariables, setVariable } from '../../service/variables.js';
import { requestActor } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { ADMIN_PAGE_SIZE, AdminOnlyNote, RowActions, canAdmin, confirmStep, Field, formErrorOf, formFields, formPage, TextInput, type FormError } from './admin-forms.js';
import { Pager, PageHeading, Time } from './components.js';
import { Layout } from './layout.js';
import { adminPath, intParam } from './paths.js';

/** `GET /variables?offset=`: variables, values of secret-looking keys masked; admins get the forms. */
export async function variablesPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const offset = intParam(c.req.query('offset'), 0, 0);
  const [variables, total] = await Promise.all([listVariables(db, { limit: ADMIN_PAGE_SIZE, offset }), countVariables(db)]);
  const admin = canAdmin(c);
  return c.html(
    <Layout c={c} title="Variables" section="variables">
      <PageHeading
        title="Variables"
        sub={<p class="desc">Values whose keys look secret (password, token, api_key, …) read as {MASK}.</p>}
        actions={admin ? <a class="btn primary" href={adminPath('variables', undefined, 'new')}>New variable</a> : undefined}
      />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Description</th>
              <th>Updated</th>
              {admin ? <th></th> : null}
            </tr>
          </thead>
          <tbody>
            {variables.length === 0 ? (
              <tr>
                <td colspan={admin ? 5 : 4} class="empty">
                  No variables.
                </td>
              </tr>
            ) : null}
            {variables.map((v) => (
              <tr>
                <td>
                  <code>{v.key}</code>
                </td>
                <td class="value-cell">{v.masked ? <span class="masked">{MASK}</span> : <pre class="inline-value">{v.value}</pre>}</td>
                <td>{v.description ?? ''}</td>
                <td>
                  <Time date={v.updatedAt} />
                </td>
                {admin ? <RowActions list="variables" id={v.key} /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Pager path="/variables" query={{}} offset={offset} limit={ADMIN_PAGE_SIZE} shown={variables.length} total={total} />
      {admin ? null : <AdminOnlyNote what="variables" />}
    </Layout>,
  );
}

interface VariableForm {
  key: string;
  value: string;
  description: string;
}

/**
 * The form of a new variable or of an existing one. A secret-looking key's stored value is never
 * put into the page: its box starts empty, and left empty keeps the value.
 */
function variableForm(c: Context<WebEnv>, form: VariableForm, editing: boolean, error?: FormError, status: 200 | 400 | 409 = 200) {
  const secret = editing && isSensitiveName(form.key);
  return formPage(
    c,
    {
      title: editing ? `Edit variable ${form.key}` : 'New variable',
      section: 'variables',
      crumbs: [['Variables', '/variables'], [editing ? form.key : 'new', null]],
      action: editing ? adminPath('variables', form.key, 'edit') : adminPath('variables', undefined, 'new'),
      error,
      submit: editing ? 'Save' : 'Create variable',
      back: '/variables',
      children: (
        <>
          {editing ? null : (
            <Field id="v-key" name="key" label="Key" error={error} hint="Letters, digits, '_', '.', '-' and '/'. Keys containing password, secret, token, api_key … are masked wherever they are shown.">
              <TextInput id="v-key" name="key" value={form.key} error={error} required autofocus />
            </Field>
          )}
          <Field id="v-value" name="value" label="Value" error={error} hint={secret ? `The stored value is not shown (the key looks secret). Leave this empty to keep it.` : undefined}>
            <textarea id="v-value" name="value" rows={4} class="mono" spellcheck={false} autocomplete="off" placeholder={secret ? MASK : undefined}>
              {secret ? '' : form.value}
            </textarea>
          </Field>
          <Field id="v-description" name="description" label="Description" error={error}>
            <TextInput id="v-description" name="description" value={form.description} error={error} />
          </Field>
        </>
      ),
    },
    status,
  );
}

/** `GET /variables/new`: the form for a new variable (admins). */
export function variableNewPage(c: Context<WebEnv>): Response | Promise<Response> {
  return variableForm(c, { key: '', value: '', description: '' }, false);
}

/** `POST /variables/new`: create through the same `createVariable` as the REST API. */
export async function variableCreateSubmit(c: Context<WebEnv>): Promise<Response> {
  const fields = await formFields(c, ['value']);
  const form: VariableForm = { key: fields.key ?? '', value: fields.value ?? '', description: fields.description ?? '' };
  try {
    await createVariable(c.get('engine').db, { key: form.key, value: form.value, description: form.description || null }, requestActor(c));
    setFlash(c, `Created variable ${form.key}.`);
    return c.redirect('/variables', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return variableForm(c, form, false, failed.error, failed.status);
  }
}

/** `GET /variables/:key/edit`: the form changing a variable's value and description (admins). */
export async function variableEditPage(c: Context<WebEnv>): Promise<Response> {
  const variable = await getVariable(c.get('engine').db, c.req.param('key')!);
  return variableForm(c, { key: variable.key, value: variable.masked ? '' : variable.value, description: variable.description ?? '' }, true);
}

/**
 * `POST /variables/:key/edit`: replace through the same `setVariable` as the CLI and REST API; an
 * empty value of a secret-looking key keeps the stored one.
 */
export async function variableEditSubmit(c: Context<WebEnv>): Promise<Response> {
  const key = c.req.param('key')!;
  const { db } = c.get('engine');
  await getVariable(db, key); // 404 page when it was deleted meanwhile, rather than creating it again
  const fields = await formFields(c, ['value']);
  const form: VariableForm = { key, value: fields.value ?? '', description: fields.description ?? '' };
  const keep = isSensitiveName(key) && form.value === '';
  try {
    await setVariable(db, { key, ...(keep ? {} : { value: form.value }), description: form.description || null }, requestActor(c));
    setFlash(c, `Saved variable ${key}${keep ? ' (value kept)' : ''}.`);
    return c.redirect('/variables', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return variableForm(c, form, true, failed.error, failed.status);
  }
}

/** `GET /variables/:key/delete`: confirm deleting a variable. */
export async function variableDeleteConfirm(c: Context<WebEnv>): Promise<Response> {
  const variable = await getVariable(c.get('engine').db, c.req.param('key')!);
  return confirmStep(c, {
    title: `Delete variable ${variable.key}`,
    action: adminPath('variables', variable.key, 'delete'),
    body: <p>Task arguments whose templates read it fail until it exists again.</p>,
    submit: 'Delete variable',
    back: '/variables',
    section: 'variables',
  });
}

/** `POST /variables/:key/delete`: delete through the same `deleteVariable` as the CLI and REST API. */
export async function variableDeleteSubmit(c: Context<WebEnv>): Promise<Response> {
  const key = c.req.param('key')!;
  await deleteVariable(c.get('engine').db, key, requestActor(c));
  setFlash(c, `Deleted variable ${key}.`);
  return c.redirect('/variables', 303);
}
