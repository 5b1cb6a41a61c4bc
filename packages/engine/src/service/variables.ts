import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../errors.js';
import { recordAudit, type Actor } from './audit.js';
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

/** Every variable by key, values of secret-looking keys masked. */
export async function listVariables(db: Kysely<Database>): Promise<VariableSummary[]> {
  const rows = await db.selectFrom('tributary.variable').selectAll().orderBy('key').execute();
  return rows.map((r) => summarize(r, false));
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

/** Create or replace a variable; returns it masked. The audit entry never holds the value. */
export async function setVariable(db: Kysely<Database>, variable: { key: string; value: string; description?: string | null }, actor: Actor): Promise<{ created: boolean; variable: VariableSummary }> {
  checkKey(variable.key);
  return withTransaction(db, async (trx) => {
    const existed = await trx.selectFrom('tributary.variable').select('key').where('key', '=', variable.key).forUpdate().executeTakeFirst();
    const row = await trx
      .insertInto('tributary.variable')
      .values({ key: variable.key, value: variable.value, description: variable.description ?? null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          description: variable.description === undefined ? eb.ref('tributary.variable.description') : eb.ref('excluded.description'),
          updated_at: new Date(),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: existed ? 'variable_update' : 'variable_create', object: `variable:${variable.key}` });
    return { created: !existed, variable: summarize(row, false) };
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
