import { sql, type Kysely } from 'kysely';
import type { Database, TaskState } from '../db/schema.js';
import { Batcher, perOwner } from '../db/batcher.js';
import { withTransaction } from '../db/transaction.js';
import { advanceRuns, type AdvanceRequest } from './advance.js';
import type { DagStructure, EngineContext } from './context.js';
import { queueScheduled } from './queue-scheduled.js';
import { finishRunsIfDone } from './run-lifecycle.js';
import { executePrepared } from '../db/prepared.js';

/** A task instance that reached a state: what happens next is decided by {@link afterTaskFinished}. */
export interface FinishedTask {
  runPk: number;
  dagId: string;
  taskId: string;
  dagVersionId: number;
  /** The pool whose slots it gave back; a freed slot can let instances of other DAGs start. */
  pool?: string;
  state: TaskState;
}

const FINISHED: ReadonlySet<TaskState> = new Set(['success', 'failed', 'skipped', 'upstream_failed']);

/**
 * Which runs may be done and whether freed slots have takers: one statement. `runs` are the runs to
 * ask about; `dags` and `pools` those whose waiting (`scheduled`) instances could take a freed slot.
 */
async function probe(
  db: Kysely<Database>,
  runs: readonly number[],
  dags: readonly string[],
  pools: readonly string[],
): Promise<{ finished: number[]; waiting: boolean }> {
  const rows = await executePrepared(db, sql<{ run_pk: number | null; waiting: boolean }>`
    SELECT u.run_pk, false AS waiting FROM unnest(${runs}::bigint[]) AS u(run_pk)
     WHERE NOT EXISTS (SELECT 1 FROM tributary.task_instance t
                        WHERE t.run_pk = u.run_pk
                          AND (t.state IS NULL OR t.state NOT IN ('success', 'failed', 'upstream_failed', 'skipped', 'removed')))
    UNION ALL
    SELECT NULL, true
     WHERE EXISTS (SELECT 1 FROM tributary.task_instance t WHERE t.state = 'scheduled' AND t.dag_id = ANY(${dags}::text[]))
        OR EXISTS (SELECT 1 FROM tributary.task_instance t WHERE t.state = 'scheduled' AND t.pool = ANY(${pools}::text[]))`);
  return {
    finished: rows.rows.filter((r) => r.run_pk !== null).map((r) => Number(r.run_pk)),
    waiting: rows.rows.some((r) => r.waiting),
  };
}

/**
 * What follows finished task instances, for many at once: settle or queue their downstream tasks,
 * hand freed slots to waiting instances, and settle runs that have nothing left to do.
 */
async function flushFinished(ctx: EngineContext, inputs: FinishedTask[]): Promise<void[]> {
  const structures = await Promise.all(
    inputs.map((input): Promise<DagStructure> | null => (FINISHED.has(input.state) ? ctx.versions.get(input.dagVersionId) : null)),
  );
  const requests: AdvanceRequest[] = [];
  inputs.forEach((input, k) => {
    const structure = structures[k];
    const downstream = structure?.tasks.get(input.taskId)?.downstream ?? [];
    if (structure && downstream.length > 0) requests.push({ run: { id: input.runPk, dag_id: input.dagId }, structure, candidates: downstream });
  });
  const dags = [...new Set(inputs.map((i) => i.dagId))];
  const pools = [...new Set(inputs.flatMap((i) => (i.pool ? [i.pool] : [])))];
  // Read after the finishers' commits: the last of concurrent finishers sees every upstream done.
  const advanced =
    requests.length > 0
      ? await withTransaction(ctx.db, (trx) => advanceRuns(trx, ctx, requests, { alsoQueueDags: dags, alsoQueuePools: pools }))
      : null;
  // A run where something was just scheduled is not done; any other run of a finished task may be.
  const maybeDone = [
    ...new Set(inputs.filter((i) => FINISHED.has(i.state) && !(advanced && (advanced.runs.get(i.runPk)?.scheduled ?? 0) > 0)).map((i) => i.runPk)),
  ];
  // Without an advance (which queues for the freed slots), ask whether anything waits for them.
  const pump = advanced === null;
  await settle(ctx, maybeDone, pump ? dags : [], pump ? pools : []);
  return inputs.map(() => undefined);
}

/**
 * Ask whether runs are done and whether freed slots of DAGs and pools have takers, then act: queue
 * the takers, settle the runs. Each run, DAG and pool is asked about at most once per
 * {@link SETTLE_INTERVAL_MS} per process; a question asked sooner is put off to the end of that
 * interval (so it is never dropped). A wide fan-out finishing thousands of tasks a second then costs
 * a few such statements per run each second instead of one per batch of finished tasks, each
 * scanning the run's task instances; a run is settled at most that much later.
 */
async function settle(ctx: EngineContext, runs: readonly number[], dags: readonly string[], pools: readonly string[]): Promise<void> {
  const throttle = settleThrottle(ctx);
  const dueRuns = throttle.take(runs.map((r) => `run:${r}`)).map((k) => Number(k.slice(4)));
  const duePump = throttle.take([...dags.map((d) => `dag:${d}`), ...pools.map((p) => `pool:${p}`)]);
  await settleNow(ctx, dueRuns, duePump);
}

async function settleNow(ctx: EngineContext, runs: readonly number[], pumpKeys: readonly string[]): Promise<void> {
  const dags = pumpKeys.filter((k) => k.startsWith('dag:')).map((k) => k.slice(4));
  const pools = pumpKeys.filter((k) => k.startsWith('pool:')).map((k) => k.slice(5));
  if (runs.length === 0 && dags.length === 0 && pools.length === 0) return;
  const probed = await probe(ctx.db, runs, dags, pools);
  if (probed.waiting) await withTransaction(ctx.db, (trx) => queueScheduled(trx, ctx, dags, pools));
  if (probed.finished.length > 0) await finishRunsIfDone(ctx, probed.finished);
}

/** Least time between two settle questions about one run, DAG or pool, per process. */
export const SETTLE_INTERVAL_MS = 10;

/** Per-key rate limit: keys asked again within the interval are collected and handed to `onDue` later. */
class KeyThrottle {
  readonly #intervalMs: number;
  readonly #onDue: (keys: string[]) => void;
  readonly #last = new Map<string, number>();
  readonly #deferred = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, onDue: (keys: string[]) => void) {
    this.#intervalMs = intervalMs;
    this.#onDue = onDue;
  }

  /** The keys that may be asked about now; the others are deferred. */
  take(keys: readonly string[]): string[] {
    const now = Date.now();
    if (this.#last.size > 10_000) for (const [key, at] of this.#last) if (now - at > this.#intervalMs) this.#last.delete(key);
    const due: string[] = [];
    for (const key of keys) {
      if (this.#deferred.has(key)) continue; // already coming
      if (now - (this.#last.get(key) ?? 0) >= this.#intervalMs) {
        this.#last.set(key, now);
        due.push(key);
      } else {
        this.#deferred.add(key);
      }
    }
    if (this.#deferred.size > 0 && !this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        const keys = [...this.#deferred];
        this.#deferred.clear();
        const at = Date.now();
        for (const key of keys) this.#last.set(key, at);
        this.#onDue(keys);
      }, this.#intervalMs);
      this.#timer.unref();
    }
    return due;
  }
}

const settleThrottle = perOwner(
  (ctx: EngineContext) =>
    new KeyThrottle(SETTLE_INTERVAL_MS, (keys) => {
      const runs = keys.filter((k) => k.startsWith('run:')).map((k) => Number(k.slice(4)));
      settleNow(ctx, runs, keys.filter((k) => !k.startsWith('run:'))).catch((error: unknown) => {
        // The sweep settles what this missed (e.g. the engine closed meanwhile).
        ctx.log.debug({ err: error }, 'settling finished runs failed; the scheduler sweep will');
      });
    }),
);

/** After-finish work of one engine context, batched. */
const finishBatcher = perOwner((ctx: EngineContext) => new Batcher<FinishedTask, void>((inputs) => flushFinished(ctx, inputs)));

/**
 * After a task instance reached `state`: settle or queue its downstream tasks, hand its freed slot to
 * a waiting task, and settle the run when nothing is left to do. Calls made at the same time share
 * their statements (a worker finishing many tasks advances all their runs in one transaction).
 */
export function afterTaskFinished(ctx: EngineContext, ti: Omit<FinishedTask, 'state'>, state: TaskState): Promise<void> {
  return finishBatcher(ctx).run({ ...ti, state });
}
