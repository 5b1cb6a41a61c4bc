/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { UserRole } from '../../db/schema.js';
import { generatePassword } from '../../service/passwords.js';
import { listApiTokens } from '../../service/tokens.js';
import { USER_ROLES, countUsers, createUser, getUser, listUsers, MIN_PASSWORD_LENGTH, type UserSummary } from '../../service/users.js';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import { requestActor } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { ADMIN_PAGE_SIZE, Field, formErrorOf, formFields, formPage, secretOnce, TextInput, type FormError } from './admin-forms.js';
import { ConfirmLink, Facts, Pager, PageHeading, Time } from './components.js';
import { Layout } from './layout.js';
import { adminPath, intParam } from './paths.js';

const ROLE_NOTES: Record<UserRole, string> = {
  viewer: 'reads everything',
  operator: 'also triggers, clears, marks, cancels, pauses and backfills',
  admin: 'also manages users, pools, variables and connections',
};

function RoleSelect({ id, value }: { id: string; value: string }) {
  return (
    <select id={id} name="role">
      {USER_ROLES.map((r) => (
        <option value={r} selected={r === value}>
          {r} ({ROLE_NOTES[r]})
        </option>
      ))}
    </select>
  );
}

function Status({ user }: { user: UserSummary }) {
  return user.disabled ? <span class="pill warn-pill">disabled</span> : <span class="pill muted-pill">active</span>;
}

/** `GET /users?offset=`: every user with role, status and last sign-in (admins only). */
export async function usersPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const offset = intParam(c.req.query('offset'), 0, 0);
  const [users, total] = await Promise.all([listUsers(db, { limit: ADMIN_PAGE_SIZE, offset }), countUsers(db)]);
  return c.html(
    <Layout c={c} title="Users" section="users">
      <PageHeading
        title="Users"
        sub={<p class="desc">Who may sign in to the monitor and call the REST API, and with which role.</p>}
        actions={<a class="btn primary" href={adminPath('users', undefined, 'new')}>New user</a>}
      />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <th>Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr>
                <td>
                  <a href={adminPath('users', u.username)}>{u.username}</a>
                </td>
                <td>{u.role}</td>
                <td>
                  <Status user={u} />
                </td>
                <td>
                  <Time date={u.createdAt} />
                </td>
                <td>
                  <Time date={u.lastLoginAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Pager path="/users" query={{}} offset={offset} limit={ADMIN_PAGE_SIZE} shown={users.length} total={total} />
    </Layout>,
  );
}

interface UserForm {
  username: string;
  role: string;
}

function userForm(c: Context<WebEnv>, form: UserForm, error?: FormError, status: 200 | 400 | 409 = 200) {
  return formPage(
    c,
    {
      title: 'New user',
      section: 'users',
      crumbs: [['Users', '/users'], ['new', null]],
      action: adminPath('users', undefined, 'new'),
      error,
      submit: 'Create user',
      back: '/users',
      children: (
        <>
          <Field id="u-username" name="username" label="Username" error={error} hint="Letters, digits, '.', '_', '@' and '-', starting with a letter or digit.">
            <TextInput id="u-username" name="username" value={form.username} error={error} required autofocus autocomplete="off" />
          </Field>
          <Field id="u-role" name="role" label="Role" error={error}>
            <RoleSelect id="u-role" value={form.role} />
          </Field>
          <Field id="u-password" name="password" label="Password" error={error} hint={`At least ${MIN_PASSWORD_LENGTH} characters. Leave it empty to generate one, shown once.`}>
            <input type="password" id="u-password" name="password" value="" autocomplete="new-password" />
          </Field>
        </>
      ),
    },
    status,
  );
}

/** `GET /users/new`: the form for a new user. */
export function userNewPage(c: Context<WebEnv>): Response | Promise<Response> {
  return userForm(c, { username: '', role: 'viewer' });
}

/**
 * `POST /users/new`: create through the same `createUser` as the CLI and REST API. A password left
 * empty is generated and shown once.
 */
export async function userCreateSubmit(c: Context<WebEnv>): Promise<Response> {
  const fields = await formFields(c, ['password']);
  const form: UserForm = { username: fields.username ?? '', role: fields.role ?? '' };
  const generated = !fields.password;
  const password = fields.password || generatePassword();
  try {
    const user = await createUser(c.get('engine').db, { username: form.username, role: form.role as UserRole, password }, requestActor(c));
    if (!generated) {
      setFlash(c, `Created user ${user.username} with role ${user.role}.`);
      return c.redirect(adminPath('users', user.username), 303);
    }
    return secretOnce(c, {
      title: `Created user ${user.username}`,
      label: `Password of ${user.username}`,
      secret: password,
      note: `Give it to ${user.username} to sign in with role ${user.role}.`,
      back: adminPath('users', user.username),
      backLabel: `Go to ${user.username}`,
      section: 'users',
    });
  } catch (error) {
    const failed = formErrorOf(error);
    return userForm(c, form, failed.error, failed.status);
  }
}

/**
 * `GET /users/:username`: a user with their role (to change), status, password reset, API tokens
 * (to create and revoke) and deletion. An admin cannot disable, demote or delete themselves here.
 */
export async function userPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const user = await getUser(db, c.req.param('username')!);
  const tokens = await listApiTokens(db, { username: user.username });
  const self = c.get('user')!.username === user.username;
  const path = (action?: string) => adminPath('users', user.username, action);
  return c.html(
    <Layout c={c} title={`User ${user.username}`} section="users">
      <PageHeading
        crumbs={[['Users', '/users'], [user.username, null]]}
        title={
          <>
            {user.username} <Status user={user} />
          </>
        }
        actions={
          <>
            <ConfirmLink href={path('password')}>Reset password…</ConfirmLink>
            {self ? null : (
              <ConfirmLink href={path('disable')} variant="danger">
                {user.disabled ? 'Enable…' : 'Disable…'}
              </ConfirmLink>
            )}
            {self ? null : (
              <ConfirmLink href={path('delete')} variant="danger">
                Delete…
              </ConfirmLink>
            )}
          </>
        }
      />
      <div class="columns">
        <section class="card">
          <h2>Account</h2>
          <Facts
            items={[
              ['Role', user.role],
              ['Created', <Time date={user.createdAt} />],
              ['Last sign-in', <Time date={user.lastLoginAt} />],
            ]}
          />
          <form method="post" action={path('role')} class="form">
            <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
            <div class="field">
              <label for="u-role">Change role</label>
              <RoleSelect id="u-role" value={user.role} />
              {self ? <p class="hint">You cannot take away your own admin role; another admin can.</p> : null}
            </div>
            <button type="submit" class="btn">
              Save role
            </button>
          </form>
        </section>
        <section class="card">
          <h2>API tokens</h2>
          <p class="muted small">For scripts and the REST API (Authorization: Bearer …); they act as {user.username}. A new token is shown once.</p>
          <table class="table compact">
            <thead>
              <tr>
                <th>Name</th>
                <th>Starts with</th>
                <th>Created</th>
                <th>Expires</th>
                <th>Last used</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {tokens.length === 0 ? (
                <tr>
                  <td colspan={6} class="empty">
                    No API tokens.
                  </td>
                </tr>
              ) : null}
              {tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>
                    <Time date={t.createdAt} />
                  </td>
                  <td>{t.expiresAt ? <Time date={t.expiresAt} /> : <span class="muted">never</span>}</td>
                  <td>
                    <Time date={t.lastUsedAt} />
                  </td>
                  <td>
                    <ConfirmLink href={path(`tokens/${t.id}/revoke`)} variant="danger">
                      Revoke…
                    </ConfirmLink>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form method="post" action={path('tokens')} class="form">
            <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
            <div class="field">
              <label for="t-name">New token: what it is for</label>
              <input type="text" id="t-name" name="name" value="" placeholder="ci deploys, laptop…" required />
            </div>
            <button type="submit" class="btn">
              Create token
            </button>
          </form>
        </section>
      </div>
    </Layout>,
  );
}
