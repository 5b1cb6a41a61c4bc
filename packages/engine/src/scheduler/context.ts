import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CallbackRunner } from '../callback/callback-runner.js';
import { effectiveLeaves, indirectSetups } from '../dag/setup-teardown.js';
import type { SerializedDag, SerializedTask } from '../dag/types.js';
import type { PipelineProvider } from '../db/pipeline.js';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { TaskQueue } from '../queue/task-queue.js';
import type { XcomStore } from '../storage/xcom-store.js';

/** A DAG version ready for scheduling decisions: the serialized DAG with its tasks indexed. */
export interface DagStructure {
  readonly versionId: number;
  readonly serialized: SerializedDag;
  readonly tasks: ReadonlyMap<string, SerializedTask>;
  /** Tasks with no upstream tasks. */
  readonly roots: readonly string[];
  /**
   * Tasks whose states decide the run's outcome: those with no downstream tasks, except that
   * teardowns (unless `failRunOnFailure`) stand back for the tasks they follow.
   */
  readonly leaves: readonly string[];
  /** Setups a task waits for beyond its direct upstream tasks (only tasks that have some). */
  readonly indirectSetups: ReadonlyMap<string, readonly string[]>;
  /** The DAG has branch or short-circuit tasks, whose decisions can skip tasks. */
  readonly hasFlow: boolean;
}

/** Build a {@link DagStructure} from a stored version. @internal */
export function structureOf(versionId: number, serialized: SerializedDag): DagStructure {
  const tasks = new Map(serialized.tasks.map((t) => [t.taskId, t]));
  const setups = new Map<string, string[]>();
  if (serialized.tasks.some((t) => t.isSetup)) {
    for (const id of tasks.keys()) {
      const ids = indirectSetups(tasks, id);
      if (ids.length > 0) setups.set(id, ids);
    }
  }
  return {
    versionId,
    serialized,
    tasks,
    roots: serialized.tasks.filter((t) => t.upstream.length === 0).map((t) => t.taskId),
    leaves: effectiveLeaves(tasks),
    indirectSetups: setups,
    hasFlow: serialized.tasks.some((t) => t.flow !== null),
  };
}

/** Serialized DAG versions by id; versions never change, so entries never go stale. */
export class VersionCache {
  readonly #db: Kysely<Database>;
  readonly #entries = new Map<number, Promise<DagStructure>>();
  readonly #max: number;

  constructor(db: Kysely<Database>, max = 256) {
    this.#db = db;
    this.#max = max;
  }

  /**
   * The structure of DAG version `versionId`. Inside a transaction pass it as `executor`: a query
   * through the pool while holding locks can starve the pool and deadlock.
   */
  get(versionId: number, executor: Kysely<Database> = this.#db): Promise<DagStructure> {
    const cached = this.#entries.get(versionId);
    if (cached) return cached;
    const loading = executor
      .selectFrom('tributary.dag_version')
      .select(['id', 'serialized'])
      .where('id', '=', versionId)
      .executeTakeFirst()
      .then((row) => {
        if (!row) throw new NotFoundError(`DAG version ${versionId}`);
        return structureOf(row.id, row.serialized);
      });
    loading.catch(() => this.#entries.delete(versionId));
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(versionId, loading);
    return loading;
  }
}

/** Engine timings that scheduling and execution share. */
export interface EngineTimings {
  /** How often a worker reports that its running tasks are alive. */
  heartbeatIntervalMs: number;
  /** A running task instance whose heartbeat is older than this is failed as a zombie. */
  heartbeatTimeoutMs: number;
}

/** What the scheduling and execution services need: database, queue, logger, version cache. */
export interface EngineContext {
  readonly db: Kysely<Database>;
  /** Connections that pipeline statements, for the worker's transactions; without it they go through `db`, one statement at a time. */
  readonly pipelined?: PipelineProvider;
  readonly queue: TaskQueue;
  readonly log: Logger;
  readonly versions: VersionCache;
  readonly timings: EngineTimings;
  /** Largest task result stored as XCom, in bytes. */
  readonly xcomMaxBytes: number;
  /** Stores task results (offloading large ones to the object store when configured) and reads them back. */
  readonly xcom: XcomStore;
  /** Most instances a mapped task may expand into, unless the task sets its own cap. */
  readonly maxMapLength: number;
  /** Runs task and DAG callbacks from DAG files; without one (a bare context), callbacks are not run. */
  readonly callbacks?: CallbackRunner;
}
