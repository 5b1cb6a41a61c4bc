import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from './audit.js';
import { pageBounds, type ListPage } from './paging.js';
import { isSensitiveName, MASK } from './secrets.js';

/** A variable as read by people: the value is {@link MASK} when the key looks secret. */
export interface VariableSummary {
  key: string;
  value: string;
  description: string | null;
  /** Whether `value` was masked. */
  masked: boolean;
  updatedAt: Date;
}

const KEY = /^[A-Za-z0-9_.\-/]{1,250}$/;

function checkKey(key: string): void {
  if (!KEY.test(key)) throw new InvalidInputError('key', `expected 1-250 letters, digits, '_', '.', '-' or '/', got '${key}'`);
}

function summarize(row: { key: string; value: string; description: string | null; updated_at: Date }, reveal: boolean): VariableSummary {
  const masked = !reveal && isSensitiveName(row.key);
  return { key: row.key, value: masked ? MASK : row.value, description: row.description, masked, updatedAt: row.updated_at };
}

/**
 * Variables by key (every one, or one page), values of secret-looking keys masked unless `reveal`
 * (for the CLI, which has the database's rights anyway).
 */
export async function listVariables(db: Kysely<Database>, options: ListPage & { reveal?: boolean } = {}): Promise<VariableSummary[]> {
  const { limit, offset } = pageBounds(options);
  const rows = await db.selectFrom('tributary.variable').selectAll().orderBy('key').$if(limit !== null, (q) => q.limit(limit!)).offset(offset).execute();
  return rows.map((r) => summarize(r, options.reveal ?? false));
}

/** How many variables there are. */
export async function countVariables(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('tributary.variable').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One variable; masked like {@link listVariables} unless `reveal` (for code that uses the value). */
export async function getVariable(db: Kysely<Database>, key: string, options: { reveal?: boolean } = {}): Promise<VariableSummary> {
  const row = await db.selectFrom('tributary.variable').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) throw new NotFoundError(`variable '${key}'`, { field: 'key' });
  return summarize(row, options.reveal ?? false);
}

/** Create a variable; `AlreadyExistsError` when the key is taken. */
export async function createVariable(db: Kysely<Database>, variable: { key: string; value: string; description?: string | null }, actor: Actor): Promise<VariableSummary> {
  checkKey(variable.key);
  return withTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('tributary.variable')
      .values({ key: variable.key, value: variable.value, description: variable.description ?? null })
      .onConflict((oc) => oc.column('key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new AlreadyExistsError(`variable '${variable.key}'`, { field: 'key' });
    await recordAudit(trx, actor, { action: 'variable_create', object: `variable:${variable.key}` });
    return summarize(row, false);
  });
}

/**
 * Create or replace a variable; returns it masked. The audit entry never holds the value. Leaving
 * `value` out keeps the stored one (an edit form that never showed a secret value), and
 * `description` left out keeps the stored description.
 */
export async function setVariable(
  db: Kysely<Database>,
  variable: { key: string; value?: string; description?: string | null },
  actor: Actor,
): Promise<{ created: boolean; variable: VariableSummary }> {
  checkKey(variable.key);
  return withTransaction(db, async (trx) => {
    const existing = await trx.selectFrom('tributary.variable').select(['key', 'value']).where('key', '=', variable.key).forUpdate().executeTakeFirst();
    if (!existing && variable.value === undefined) throw new InvalidInputError('value', `give a value: variable '${variable.key}' does not exist yet`);
    const value = variable.value ?? existing!.value;
    const row = await trx
      .insertInto('tributary.variable')
      .values({ key: variable.key, value, description: variable.description ?? null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          description: variable.description === undefined ? eb.ref('tributary.variable.description') : eb.ref('excluded.description'),
          updated_at: new Date(),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: existing ? 'variable_update' : 'variable_create',
      object: `variable:${variable.key}`,
      ...(variable.value === undefined ? { details: { value: 'kept' } } : {}),
    });
    return { created: !existing, variable: summarize(row, false) };
  });
}

/** Delete a variable. */
export async function deleteVariable(db: Kysely<Database>, key: string, actor: Actor): Promise<void> {
  await withTransaction(db, async (trx) => {
    const row = await trx.deleteFrom('tributary.variable').where('key', '=', key).returning('key').executeTakeFirst();
    if (!row) throw new NotFoundError(`variable '${key}'`, { field: 'key' });
    await recordAudit(trx, actor, { action: 'variable_delete', object: `variable:${key}` });
  });
}
