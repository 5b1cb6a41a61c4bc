import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { SerializedDag, SerializedTask } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { NotFoundError } from '../errors.js';
import type { TaskQueue } from '../queue/task-queue.js';

/** A DAG version ready for scheduling decisions: the serialized DAG with its tasks indexed. */
export interface DagStructure {
  readonly versionId: number;
  readonly serialized: SerializedDag;
  readonly tasks: ReadonlyMap<string, SerializedTask>;
  /** Tasks with no upstream tasks. */
  readonly roots: readonly string[];
  /** Tasks with no downstream tasks. */
  readonly leaves: readonly string[];
}

/** Build a {@link DagStructure} from a stored version. @internal */
export function structureOf(versionId: number, serialized: SerializedDag): DagStructure {
  const tasks = new Map(serialized.tasks.map((t) => [t.taskId, t]));
  return {
    versionId,
    serialized,
    tasks,
    roots: serialized.tasks.filter((t) => t.upstream.length === 0).map((t) => t.taskId),
    leaves: serialized.tasks.filter((t) => t.downstream.length === 0).map((t) => t.taskId),
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
  readonly queue: TaskQueue;
  readonly log: Logger;
  readonly versions: VersionCache;
  readonly timings: EngineTimings;
  /** Largest task result stored as XCom, in bytes. */
  readonly xcomMaxBytes: number;
}
