import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { AlreadyExistsError, InvalidInputError, InvalidStateError, NotFoundError } from '../errors.js';
import type { EngineContext } from '../scheduler/context.js';
import { queueScheduled } from '../scheduler/queue-scheduled.js';
import { recordAudit, type Actor } from './audit.js';
import { pageBounds, type ListPage } from './paging.js';

/** The pool every task uses unless it names another; it cannot be deleted. */
export const DEFAULT_POOL = 'default_pool';

/** A pool with its slot usage (Airflow's open, queued, running and scheduled slots). */
export interface PoolSummary {
  name: string;
  /** Slots in all; -1 for unlimited. */
  slots: number;
  description: string | null;
  runningSlots: number;
  queuedSlots: number;
  scheduledSlots: number;
  /** Slots free now (`slots - running - queued`); -1 when unlimited. */
  openSlots: number;
}

const POOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function checkName(name: string): void {
  if (!POOL_NAME.test(name)) throw new InvalidInputError('name', `expected 1-128 letters, digits, '_', '.' or '-', got '${name}'`);
}

/** Most slots a pool can have (the column is a 32-bit integer); -1 is unlimited. */
export const MAX_POOL_SLOTS = 2_147_483_647;

function checkSlots(slots: number): void {
  if (!Number.isInteger(slots) || slots < -1) throw new InvalidInputError('slots', `expected a whole number ≥ 0, or -1 for unlimited, got ${slots}`);
  if (slots > MAX_POOL_SLOTS) throw new InvalidInputError('slots', `expected at most ${MAX_POOL_SLOTS} (or -1 for unlimited), got ${slots}`);
}

/** Pools with their usage, by name: every one, one page of them, or only `name`. */
export async function listPools(db: Kysely<Database>, options: ListPage & { name?: string } = {}): Promise<PoolSummary[]> {
  const { name } = options;
  const { limit, offset } = pageBounds(options);
  const rows = await sql<{ name: string; slots: number; description: string | null; running: number; queued: number; scheduled: number }>`
    SELECT p.name, p.slots, p.description,
           coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'running'), 0)::int AS running,
           coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'queued'), 0)::int AS queued,
           coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'scheduled'), 0)::int AS scheduled
      FROM tributary.pool p
      LEFT JOIN tributary.task_instance t ON t.pool = p.name AND t.state IN ('running', 'queued', 'scheduled')
     ${name === undefined ? sql`` : sql`WHERE p.name = ${name}`}
     GROUP BY p.name ORDER BY p.name
     LIMIT ${limit} OFFSET ${offset}`.execute(db);
  return rows.rows.map((r) => ({
    name: r.name,
    slots: r.slots,
    description: r.description,
    runningSlots: r.running,
    queuedSlots: r.queued,
    scheduledSlots: r.scheduled,
    openSlots: r.slots === -1 ? -1 : Math.max(0, r.slots - r.running - r.queued),
  }));
}

/** How many pools there are. */
export async function countPools(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('tributary.pool').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One pool with its usage; `NotFoundError` when unknown. */
export async function getPool(db: Kysely<Database>, name: string): Promise<PoolSummary> {
  const pool = (await listPools(db, { name }))[0];
  if (!pool) throw new NotFoundError(`pool '${name}'`, { field: 'name' });
  return pool;
}

/** Let task instances waiting for a pool that just grew start now rather than at the next sweep. */
async function queueWaiting(ctx: EngineContext, pool: string): Promise<void> {
  const waiting = await sql<{ dag_id: string }>`
    SELECT DISTINCT dag_id FROM tributary.task_instance WHERE state = 'scheduled' AND pool = ${pool}`.execute(ctx.db);
  if (waiting.rows.length > 0) await withTransaction(ctx.db, (trx) => queueScheduled(trx, ctx, waiting.rows.map((r) => r.dag_id)));
}

/** Create a pool. */
export async function createPool(ctx: EngineContext, pool: { name: string; slots: number; description?: string | null }, actor: Actor): Promise<PoolSummary> {
  checkName(pool.name);
  checkSlots(pool.slots);
  await withTransaction(ctx.db, async (trx) => {
    const row = await trx
      .insertInto('tributary.pool')
      .values({ name: pool.name, slots: pool.slots, description: pool.description ?? null })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('name')
      .executeTakeFirst();
    if (!row) throw new AlreadyExistsError(`pool '${pool.name}'`, { field: 'name' });
    await recordAudit(trx, actor, { action: 'pool_create', object: `pool:${pool.name}`, details: { slots: pool.slots } });
  });
  await queueWaiting(ctx, pool.name);
  return getPool(ctx.db, pool.name);
}

/** Change a pool's slots or description; task instances waiting for it start at once if it grew. */
export async function updatePool(ctx: EngineContext, name: string, changes: { slots?: number; description?: string | null }, actor: Actor): Promise<PoolSummary> {
  if (changes.slots !== undefined) checkSlots(changes.slots);
  await withTransaction(ctx.db, async (trx) => {
    const row = await trx
      .updateTable('tributary.pool')
      .set({ ...(changes.slots === undefined ? {} : { slots: changes.slots }), ...(changes.description === undefined ? {} : { description: changes.description }) })
      .where('name', '=', name)
      .returning('name')
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`pool '${name}'`, { field: 'name' });
    await recordAudit(trx, actor, { action: 'pool_update', object: `pool:${name}`, details: changes });
  });
  await queueWaiting(ctx, name);
  return getPool(ctx.db, name);
}

/** Delete a pool (not `default_pool`). Task instances that name it wait until it exists again. */
export async function deletePool(db: Kysely<Database>, name: string, actor: Actor): Promise<void> {
  if (name === DEFAULT_POOL) throw new InvalidStateError(`'${DEFAULT_POOL}' cannot be deleted (set its slots instead)`);
  await withTransaction(db, async (trx) => {
    const row = await trx.deleteFrom('tributary.pool').where('name', '=', name).returning('name').executeTakeFirst();
    if (!row) throw new NotFoundError(`pool '${name}'`, { field: 'name' });
    await recordAudit(trx, actor, { action: 'pool_delete', object: `pool:${name}` });
  });
}
