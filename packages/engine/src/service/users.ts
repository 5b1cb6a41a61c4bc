import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, InvalidStateError, NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from './audit.js';
import { pageBounds, type ListPage } from './paging.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Roles from least to most privileged; each can do everything the ones before it can. */
export const USER_ROLES: readonly UserRole[] = ['viewer', 'operator', 'admin'];

/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 8;

/** A user as shown to people (never the password hash). */
export interface UserSummary {
  id: number;
  username: string;
  role: UserRole;
  disabled: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/** Whether `role` includes the rights of `required`. */
export function hasRole(role: UserRole, required: UserRole): boolean {
  return USER_ROLES.indexOf(role) >= USER_ROLES.indexOf(required);
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new InvalidInputError('username', `expected 1-64 letters, digits, '.', '_', '@' or '-' starting with a letter or digit, got '${username}'`);
  }
}

function checkRole(role: string): asserts role is UserRole {
  if (!USER_ROLES.includes(role as UserRole)) throw new InvalidInputError('role', `expected one of ${USER_ROLES.join(', ')}, got '${role}'`);
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidInputError('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
}

type UserRow = { id: number; username: string; role: UserRole; disabled: boolean; created_at: Date; last_login_at: Date | null };

function summarize(row: UserRow): UserSummary {
  return { id: row.id, username: row.username, role: row.role, disabled: row.disabled, createdAt: row.created_at, lastLoginAt: row.last_login_at };
}

const USER_COLUMNS = ['id', 'username', 'role', 'disabled', 'created_at', 'last_login_at'] as const;

/** Users by name: every one, or one page. */
export async function listUsers(db: Kysely<Database>, page: ListPage = {}): Promise<UserSummary[]> {
  const { limit, offset } = pageBounds(page);
  const rows = await db.selectFrom('tributary.web_user').select(USER_COLUMNS).orderBy('username').$if(limit !== null, (q) => q.limit(limit!)).offset(offset).execute();
  return rows.map(summarize);
}

/** How many users exist (standalone creates the first admin when there are none). */
export async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('tributary.web_user').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One user by name; `NotFoundError` when there is none. */
export async function getUser(db: Kysely<Database>, username: string): Promise<UserSummary> {
  const row = await db.selectFrom('tributary.web_user').select(USER_COLUMNS).where('username', '=', username).executeTakeFirst();
  if (!row) throw new NotFoundError(`user '${username}'`);
  return summarize(row);
}

/** What {@link createUser} needs. */
export interface NewUser {
  username: string;
  role: UserRole;
  password: string;
}

/** Create a user with a hashed password. Throws `AlreadyExistsError`, or `InvalidInputError` naming the field. */
export async function createUser(db: Kysely<Database>, user: NewUser, actor: Actor): Promise<UserSummary> {
  checkUsername(user.username);
  checkRole(user.role);
  checkPassword(user.password);
  const passwordHash = await hashPassword(user.password);
  return withTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('tributary.web_user')
      .values({ username: user.username, role: user.role, password_hash: passwordHash })
      .onConflict((oc) => oc.column('username').doNothing())
      .returning(USER_COLUMNS)
      .executeTakeFirst();
    if (!row) throw new AlreadyExistsError(`user '${user.username}'`, { field: 'username' });
    await recordAudit(trx, actor, { action: 'user_create', object: `user:${user.username}`, details: { role: user.role } });
    return summarize(row);
  });
}

/** Changes {@link updateUser} applies; fields left out stay as they are. */
export interface UserChanges {
  role?: UserRole;
  password?: string;
  disabled?: boolean;
}

/** Change a user's role, password or disabled flag. Disabling or changing the password ends their sessions. */
export async function updateUser(db: Kysely<Database>, username: string, changes: UserChanges, actor: Actor): Promise<UserSummary> {
  if (changes.role !== undefined) checkRole(changes.role);
  if (changes.password !== undefined) checkPassword(changes.password);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  return withTransaction(db, async (trx) => {
    const row = await trx
      .updateTable('tributary.web_user')
      .set({
        ...(changes.role === undefined ? {} : { role: changes.role }),
        ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
        ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
      })
      .where('username', '=', username)
      .returning(USER_COLUMNS)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`user '${username}'`);
    if (passwordHash !== undefined || changes.disabled) {
      await trx.deleteFrom('tributary.web_session').where('user_id', '=', row.id).execute();
    }
    const details = { ...changes, password: changes.password === undefined ? undefined : 'changed' };
    await recordAudit(trx, actor, { action: 'user_update', object: `user:${username}`, details });
    return summarize(row);
  });
}

/**
 * Refuse what a signed-in admin must not do to their own account from the monitor or the REST API:
 * disable it, take away its admin role, or delete it (another admin can), so nobody locks the last
 * admin out by accident. Throws `InvalidStateError` naming the field.
 */
export function checkOwnAccountChange(signedIn: string, username: string, change: UserChanges | 'delete'): void {
  if (signedIn !== username) return;
  if (change === 'delete') throw new InvalidStateError('you cannot delete yourself (another admin can)', { field: 'username' });
  if (change.disabled || (change.role !== undefined && change.role !== 'admin')) {
    throw new InvalidStateError('you cannot disable yourself or take away your own admin role (another admin can)', { field: change.disabled ? 'disabled' : 'role' });
  }
}

/** Delete a user with their sessions and API tokens. */
export async function deleteUser(db: Kysely<Database>, username: string, actor: Actor): Promise<void> {
  await withTransaction(db, async (trx) => {
    const row = await trx.deleteFrom('tributary.web_user').where('username', '=', username).returning('id').executeTakeFirst();
    if (!row) throw new NotFoundError(`user '${username}'`);
    await recordAudit(trx, actor, { action: 'user_delete', object: `user:${username}` });
  });
}

/**
 * The user whose name and password match, or null (unknown name, wrong password, disabled). An
 * unknown name costs one hash too, so timing does not tell which names exist.
 */
export async function authenticateUser(db: Kysely<Database>, username: string, password: string): Promise<UserSummary | null> {
  const row = await db
    .selectFrom('tributary.web_user')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('username', '=', username)
    .executeTakeFirst();
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || !ok || row.disabled) return null;
  await db.updateTable('tributary.web_user').set({ last_login_at: new Date() }).where('id', '=', row.id).execute();
  return summarize(row);
}

// A valid hash of a random password: verifying against it costs the same as a real one.
const DUMMY_HASH = 'scrypt$15$8$1$3q2-7wAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
