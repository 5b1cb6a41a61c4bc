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
