/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { UserRole } from '../../db/schema.js';
import { generatePassword } from '../../service/passwords.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../../service/tokens.js';
import { checkOwnAccountChange, deleteUser, getUser, updateUser } from '../../service/users.js';
import { requestActor } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { confirmStep, formErrorOf, formFields, secretOnce } from './admin-forms.js';
import { adminPath, flag, intParam } from './paths.js';

const username = (c: Context<WebEnv>) => c.req.param('username')!;
const signedIn = (c: Context<WebEnv>) => c.get('user')!.username;

/**
 * Carry out a change to a user and go back to their page with a notice; a change the service refuses
 * (an unknown role, an admin demoting themselves) comes back as an error notice. Unknown users are 404 pages.
 */
async function change(c: Context<WebEnv>, back: string, action: () => Promise<string>): Promise<Response> {
  try {
    setFlash(c, await action());
  } catch (error) {
    setFlash(c, formErrorOf(error).error.message, 'error');
  }
  return c.redirect(back, 303);
}

/** `POST /users/:username/role`: change the role through the same `updateUser` as the REST API. */
export async function userRoleSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const { role } = await formFields(c);
  return change(c, adminPath('users', name), async () => {
    const changes = { role: (role ?? '') as UserRole };
    checkOwnAccountChange(signedIn(c), name, changes);
    const user = await updateUser(c.get('engine').db, name, changes, requestActor(c));
    return `${user.username} now has role ${user.role}.`;
  });
}

/** `GET /users/:username/disable`: confirm disabling (or enabling) a user. */
export async function userDisableConfirm(c: Context<WebEnv>): Promise<Response> {
  const user = await getUser(c.get('engine').db, username(c));
  const disable = !user.disabled;
  return confirmStep(c, {
    title: `${disable ? 'Disable' : 'Enable'} ${user.username}`,
    action: adminPath('users', user.username, 'disable'),
    fields: { disabled: disable ? 'true' : 'false' },
    body: disable ? (
      <p>Their sessions end at once and their API tokens stop working, until the user is enabled again. Nothing is deleted.</p>
    ) : (
      <p>They can sign in again, and their API tokens work again.</p>
    ),
    submit: disable ? 'Disable' : 'Enable',
    danger: disable,
    back: adminPath('users', user.username),
    section: 'users',
  });
}

/** `POST /users/:username/disable` (`disabled=true|false`): through the same `updateUser` as the REST API. */
export async function userDisableSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const disabled = flag((await formFields(c)).disabled);
  return change(c, adminPath('users', name), async () => {
    checkOwnAccountChange(signedIn(c), name, { disabled });
    await updateUser(c.get('engine').db, name, { disabled }, requestActor(c));
    return disabled ? `Disabled ${name}: their sessions ended.` : `Enabled ${name}.`;
  });
}

/** `GET /users/:username/password`: confirm resetting a user's password to a generated one. */
export async function userPasswordConfirm(c: Context<WebEnv>): Promise<Response> {
  const user = await getUser(c.get('engine').db, username(c));
  return confirmStep(c, {
    title: `Reset the password of ${user.username}`,
    action: adminPath('users', user.username, 'password'),
    body: <p>A new password is generated and shown to you once; {user.username}'s sessions end, and the old password stops working. API tokens keep working.</p>,
    submit: 'Reset password',
    back: adminPath('users', user.username),
    section: 'users',
  });
}

/** `POST /users/:username/password`: set a generated password through `updateUser` and show it once. */
export async function userPasswordSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const password = generatePassword();
  const user = await updateUser(c.get('engine').db, name, { password }, requestActor(c));
  return secretOnce(c, {
    title: `New password of ${user.username}`,
    label: `Password of ${user.username}`,
    secret: password,
    note: `Their sessions ended; they sign in again with this password.`,
    back: adminPath('users', user.username),
    backLabel: `Back to ${user.username}`,
    section: 'users',
  });
}

/** `POST /users/:username/tokens` (`name`): create an API token through `createApiToken` and show it once. */
export async function userTokenSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const fields = await formFields(c);
  let created: Awaited<ReturnType<typeof createApiToken>>;
  try {
    created = await createApiToken(c.get('engine').db, { username: name, name: fields.name ?? '' }, requestActor(c));
  } catch (error) {
    setFlash(c, formErrorOf(error).error.message, 'error');
    return c.redirect(adminPath('users', name), 303);
  }
  return secretOnce(c, {
    title: `New API token of ${name}`,
    label: `Token “${created.summary.name}”`,
    secret: created.token,
    note: `Send it as Authorization: Bearer <token>; it acts as ${name}. Only its hash is stored.`,
    back: adminPath('users', name),
    backLabel: `Back to ${name}`,
    section: 'users',
  });
}

/** `GET /users/:username/tokens/:id/revoke`: confirm revoking one of the user's tokens. */
export async function userTokenRevokeConfirm(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const id = intParam(c.req.param('id'), -1);
  const token = (await listApiTokens(c.get('engine').db, { username: name })).find((t) => t.id === id);
  return confirmStep(c, {
    title: token ? `Revoke token “${token.name}” of ${name}` : `Revoke token ${id} of ${name}`,
    action: adminPath('users', name, `tokens/${id}/revoke`),
    body: <p>Scripts using it get 401 from now on.</p>,
    submit: 'Revoke token',
    back: adminPath('users', name),
    section: 'users',
  });
}

/** `POST /users/:username/tokens/:id/revoke`: revoke through the same `revokeApiToken` as the REST API. */
export async function userTokenRevokeSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  const id = intParam(c.req.param('id'), -1);
  await revokeApiToken(c.get('engine').db, id, requestActor(c), name);
  setFlash(c, `Revoked API token ${id} of ${name}.`);
  return c.redirect(adminPath('users', name), 303);
}

/** `GET /users/:username/delete`: confirm deleting a user. */
export async function userDeleteConfirm(c: Context<WebEnv>): Promise<Response> {
  const user = await getUser(c.get('engine').db, username(c));
  return confirmStep(c, {
    title: `Delete user ${user.username}`,
    action: adminPath('users', user.username, 'delete'),
    body: <p>Their sessions and API tokens are deleted with them; the audit log keeps what they did. Disabling keeps the account instead.</p>,
    submit: 'Delete user',
    back: adminPath('users', user.username),
    section: 'users',
  });
}

/** `POST /users/:username/delete`: delete through the same `deleteUser` as the REST API. */
export async function userDeleteSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = username(c);
  try {
    checkOwnAccountChange(signedIn(c), name, 'delete');
    await deleteUser(c.get('engine').db, name, requestActor(c));
  } catch (error) {
    setFlash(c, formErrorOf(error).error.message, 'error');
    return c.redirect(adminPath('users', name), 303);
  }
  setFlash(c, `Deleted user ${name}.`);
  return c.redirect('/users', 303);
}
