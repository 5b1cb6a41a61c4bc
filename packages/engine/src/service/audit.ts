import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

/** Who performs an action, and from where. */
export interface Actor {
  /** User name, or a process such as `scheduler`. */
  name: string;
  /** Where the request came from: `cli`, an IP address, `api`. */
  origin: string;
}

/** The actor of CLI commands: the OS user. */
export function cliActor(): Actor {
  return { name: process.env.USER ?? process.env.LOGNAME ?? 'cli', origin: 'cli' };
}

/** One audit entry to write. */
export interface AuditEntry {
  action: string;
  dagId?: string | null;
  runId?: string | null;
  taskId?: string | null;
  /** The object acted on when it is not a DAG, run or task: `pool:etl`, `user:alice`. */
  object?: string | null;
  details?: Record<string, unknown>;
}

/** Record who did what (in the caller's transaction, so the entry exists exactly when the change does). */
export async function recordAudit(db: Kysely<Database> | Transaction<Database>, actor: Actor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('tributary.audit_log')
    .values({
      actor: actor.name,
      origin: actor.origin,
      action: entry.action,
      dag_id: entry.dagId ?? null,
      run_id: entry.runId ?? null,
      task_id: entry.taskId ?? null,
      object: entry.object ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

/** An audit entry as read back. */
export interface AuditRecord {
  id: number;
  at: Date;
  actor: string;
  origin: string;
  action: string;
  dagId: string | null;
  runId: string | null;
  taskId: string | null;
  object: string | null;
  details: Record<string, unknown>;
}

/** Filters and paging of {@link listAuditLog}. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  dagId?: string;
  /** Entries at or after this time. */
  since?: Date;
  /** @defaultValue 100 */
  limit?: number;
  /** @defaultValue 0 */
  offset?: number;
}

/** One page of audit entries, newest first. */
export async function listAuditLog(db: Kysely<Database>, query: AuditQuery = {}): Promise<AuditRecord[]> {
  let q = db.selectFrom('tributary.audit_log').selectAll();
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  if (query.dagId !== undefined) q = q.where('dag_id', '=', query.dagId);
  if (query.since !== undefined) q = q.where('at', '>=', query.since);
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit ?? 100)
    .offset(query.offset ?? 0)
    .execute();
  return rows.map((r) => ({
    id: r.id, at: r.at, actor: r.actor, origin: r.origin, action: r.action, dagId: r.dag_id, runId: r.run_id, taskId: r.task_id, object: r.object, details: r.details,
  }));
}
