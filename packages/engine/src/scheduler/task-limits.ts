import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DagStructure, EngineContext } from './context.js';
import { executePrepared } from '../db/prepared.js';

/** A task instance about to be queued, as far as per-task limits care. */
export interface LimitedCandidate {
  run_pk: number;
  dag_id: string;
  task_id: string;
  dag_version_id: number;
}

interface Limits {
  perDag: number | null;
  perRun: number | null;
}

const NO_LIMITS: Limits = { perDag: null, perRun: null };

/**
 * The per-task limits `maxActiveInstances` (across a DAG's runs) and `maxActiveInstancesPerRun`,
 * applied while {@link queueScheduled} picks task instances. Occupancy is counted only for tasks that
 * have a limit, once per call, and must be read under the DAG's slot lock (so no other process
 * queues instances of the same DAG meanwhile). @internal
 */
export class TaskLimits {
  readonly #trx: Transaction<Database>;
  readonly #ctx: EngineContext;
  /** Queued or running instances by `dag task` and by `run task`, for the tasks counted so far. */
  readonly #perDag = new Map<string, number>();
  readonly #perRun = new Map<string, number>();
  readonly #counted = new Set<string>();
  /** `dag task` pairs at their `maxActiveInstances`: none of their instances can be queued now. */
  readonly heldTasks = new Set<string>();
  /** `run task` pairs at their `maxActiveInstancesPerRun`. */
  readonly heldRunTasks = new Set<string>();

  constructor(trx: Transaction<Database>, ctx: EngineContext) {
    this.#trx = trx;
    this.#ctx = ctx;
  }

  /** Read the occupancy of the limited tasks among `candidates` not counted yet; returns each candidate's limits. */
  async load(candidates: readonly LimitedCandidate[]): Promise<Limits[]> {
    // Limits live in the DAG version (cached in memory): one lookup per version, not per candidate.
    const versions = new Map<number, DagStructure>();
    for (const id of new Set(candidates.map((c) => c.dag_version_id))) versions.set(id, await this.#ctx.versions.get(id, this.#trx));
    const limits = candidates.map((c): Limits => {
      const task = versions.get(c.dag_version_id)!.tasks.get(c.task_id);
      if (!task || (task.maxActiveInstances == null && task.maxActiveInstancesPerRun == null)) return NO_LIMITS;
      return { perDag: task.maxActiveInstances ?? null, perRun: task.maxActiveInstancesPerRun ?? null };
    });
    const missing = new Map<string, { dag: string; task: string }>();
    candidates.forEach((c, i) => {
      const l = limits[i]!;
      const key = `${c.dag_id} ${c.task_id}`;
      if ((l.perDag !== null || l.perRun !== null) && !this.#counted.has(key)) missing.set(key, { dag: c.dag_id, task: c.task_id });
    });
    if (missing.size > 0) {
      const pairs = [...missing.values()];
      const rows = await executePrepared(this.#trx, sql<{ dag_id: string; task_id: string; run_pk: string | number; n: number }>`
        SELECT t.dag_id, t.task_id, t.run_pk, count(*)::int AS n
          FROM tributary.task_instance t
          JOIN unnest(${pairs.map((p) => p.dag)}::text[], ${pairs.map((p) => p.task)}::text[]) AS w(dag_id, task_id)
            ON w.dag_id = t.dag_id AND w.task_id = t.task_id
         WHERE t.state IN ('queued', 'running')
         GROUP BY t.dag_id, t.task_id, t.run_pk`);
      for (const key of missing.keys()) this.#counted.add(key);
      for (const row of rows.rows) {
        const dagKey = `${row.dag_id} ${row.task_id}`;
        this.#perDag.set(dagKey, (this.#perDag.get(dagKey) ?? 0) + row.n);
        this.#perRun.set(`${row.run_pk} ${row.task_id}`, row.n);
      }
    }
    return limits;
  }

  /**
   * Whether a candidate with `limits` may be queued now; if so it is counted. A task found at its
   * limit is remembered as held, so later rounds do not fetch its instances again.
   */
  admit(c: LimitedCandidate, limits: Limits): boolean {
    if (limits.perDag === null && limits.perRun === null) return true;
    const dagKey = `${c.dag_id} ${c.task_id}`;
    const runKey = `${c.run_pk} ${c.task_id}`;
    const inDag = this.#perDag.get(dagKey) ?? 0;
    const inRun = this.#perRun.get(runKey) ?? 0;
    if (limits.perDag !== null && inDag >= limits.perDag) {
      this.heldTasks.add(dagKey);
      return false;
    }
    if (limits.perRun !== null && inRun >= limits.perRun) {
      this.heldRunTasks.add(runKey);
      return false;
    }
    this.#perDag.set(dagKey, inDag + 1);
    this.#perRun.set(runKey, inRun + 1);
    return true;
  }
}
