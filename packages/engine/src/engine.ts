import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import { CallbackRunner } from './callback/callback-runner.js';
import { resolveEngineConfig, type EngineConfig, type ResolvedEngineConfig } from './config.js';
import { connectDatabase, redactUrl, type DatabaseHandle } from './db/connect.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embedded.js';
import { migrateDatabase } from './db/migrate.js';
import type { Database } from './db/schema.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createBuiltinPlugin } from './executor/builtin-plugin.js';
import { Executors } from './executor/executors.js';
import { KubernetesAccess } from './executor/kubernetes-access.js';
import { KubernetesExecutor } from './executor/kubernetes-executor.js';
import { LocalExecutor } from './executor/local-executor.js';
import { ThreadExecutor } from './executor/thread-executor.js';
import type { PluginServiceRole } from './plugin/plugin.js';
import { PluginRegistry } from './plugin/registry.js';
import { startPluginServices, type PluginServices, type StartedPluginService } from './plugin/services.js';
import { DagBag } from './processor/dag-bag.js';
import { DagProcessor, type ParseRunSummary } from './processor/dag-processor.js';
import { TaskQueue } from './queue/task-queue.js';
import { VersionCache, type EngineContext } from './scheduler/context.js';
import { RetryWaker } from './scheduler/retry-waker.js';
import { Scheduler } from './scheduler/scheduler.js';
import { wakeRetry } from './scheduler/task-transitions.js';
import { triggerDag, type TriggerOptions } from './service/runs.js';
import { XcomStore } from './storage/xcom-store.js';
import { runTaskInstance, type TaskTryRef, type TaskTryResult } from './worker/run-task-instance.js';
import { Worker, type WorkerConfig } from './worker/worker.js';

/**
 * One Tributary engine: a connection to the metadata database (embedded PostgreSQL unless a URL is
 * configured), the task queue, and whichever roles this process plays — DAG processor, scheduler,
 * workers. `open()` connects and migrates; `close()` stops every role and releases everything.
 *
 * @example
 * ```ts
 * const engine = await Tributary.open({ dagsFolders: ['dags'] });
 * await engine.parseDags();
 * engine.startScheduler();
 * await engine.startWorker();
 * ```
 */
export class Tributary {
  readonly config: ResolvedEngineConfig;
  readonly log: Logger;
  /** Shared services for scheduling and execution. */
  readonly context: EngineContext;
  readonly plugins: PluginRegistry;
  /** Engine migrations applied when this engine opened (empty when the schema was current). */
  readonly migrationsApplied: readonly string[];
  #pluginMigrations: Readonly<Record<string, readonly string[]>> = {};
  readonly #database: DatabaseHandle;
  readonly #embedded: EmbeddedPostgresHandle | null;
  readonly #queue: TaskQueue;
  readonly #retries: RetryWaker;
  readonly #dagBag: DagBag;
  readonly #kubernetes: KubernetesAccess;
  #processor: DagProcessor | null = null;
  #scheduler: Scheduler | null = null;
  readonly #workers: Worker[] = [];
  readonly #services: PluginServices[] = [];
  #closing: Promise<void> | null = null;

  private constructor(
    config: ResolvedEngineConfig,
    log: Logger,
    database: DatabaseHandle,
    embedded: EmbeddedPostgresHandle | null,
    queue: TaskQueue,
    migrationsApplied: readonly string[],
  ) {
    this.config = config;
    this.migrationsApplied = migrationsApplied;
    this.log = log;
    this.#database = database;
    this.#embedded = embedded;
    this.#queue = queue;
    this.#dagBag = new DagBag(config.projectDir);
    this.context = {
      db: database.db,
      pipelined: database.pipelined,
      queue,
      log,
      versions: new VersionCache(database.db),
      timings: { heartbeatIntervalMs: config.heartbeatIntervalMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
      xcomMaxBytes: config.xcomMaxBytes,
      xcom: new XcomStore({ objectStore: config.objectStore, xcomMaxBytes: config.xcomMaxBytes, offload: config.xcomOffload }),
      maxMapLength: config.maxMapLength,
      callbacks: new CallbackRunner({ dags: this.#dagBag, db: database.db, log, timeoutMs: config.callbackTimeoutMs }),
    };
    this.#retries = new RetryWaker(
      (tiId) => wakeRetry(this.context, tiId),
      (error, tiId) => log.error({ err: error, tiId }, 'waking a retry failed; the scheduler will pick it up'),
    );
    this.#kubernetes = new KubernetesAccess(config.kubernetes);
    this.plugins = new PluginRegistry(config.projectDir, [createBuiltinPlugin(this.#kubernetes, database.db, config.objectStore)], { database, log });
  }

  /** Resolve the configuration, connect (starting embedded PostgreSQL when no URL is set), migrate, start the queue. */
  static async open(options: EngineConfig = {}): Promise<Tributary> {
    const config = resolveEngineConfig(options);
    const log = config.logger ?? pino({ level: config.logLevel, base: { service: 'tributary' } }, pino.destination(2));
    let embedded: EmbeddedPostgresHandle | null = null;
    let url = config.databaseUrl;
    if (url === null) {
      const started = performance.now();
      embedded = await startEmbeddedPostgres({
        dataDir: join(config.dataDir, 'postgres'),
        onLog: (line) => log.debug({ component: 'postgres' }, line),
      });
      url = embedded.url;
      log.info(
        { dataDir: join(config.dataDir, 'postgres'), ms: Math.round(performance.now() - started), joined: !embedded.owned },
        embedded.owned ? 'embedded PostgreSQL started' : 'joined the embedded PostgreSQL already running',
      );
    }
    const database = connectDatabase(url, {
      max: config.poolSize,
      onIdleError: (error) => log.warn({ error: error.message, code: (error as { code?: string }).code }, 'database connection lost; reconnecting'),
    });
    let engine: Tributary;
    try {
      const migrated = await migrateDatabase(database);
      if (migrated.applied.length > 0) log.info({ applied: migrated.applied }, 'database migrated');
      const queue = new TaskQueue({
        connectionString: url,
        onError: (error) => log.warn({ err: error }, 'task queue error'),
      });
      await queue.start();
      log.debug({ database: redactUrl(url) }, 'engine connected');
      engine = new Tributary(config, log, database, embedded, queue, migrated.applied);
    } catch (error) {
      await database.close().catch(() => {});
      await embedded?.stop().catch(() => {});
      throw error;
    }
    try {
      await engine.#loadPlugins();
    } catch (error) {
      await engine.close().catch(() => {});
      throw error;
    }
    return engine;
  }

  /** Register the configured plugins (importing those given by package name) and apply their migrations. */
  async #loadPlugins(): Promise<void> {
    for (const plugin of this.config.plugins) {
      if (typeof plugin === 'string') await this.plugins.load(plugin);
      else this.plugins.register(plugin);
    }
    const applied = await this.plugins.readyAll();
    this.#pluginMigrations = Object.fromEntries(Object.entries(applied).filter(([, names]) => names.length > 0));
  }

  /** Migrations of the configured plugins applied when this engine opened, by plugin name (only those that applied some). */
  get pluginMigrationsApplied(): Readonly<Record<string, readonly string[]>> {
    return this.#pluginMigrations;
  }

  /** The metadata database (kysely). */
  get db(): Kysely<Database> {
    return this.context.db;
  }

  /** The DAG processor for this engine's DAG folders (created on first use). */
  get processor(): DagProcessor {
    this.#processor ??= new DagProcessor({
      db: this.db,
      folders: this.config.dagsFolders,
      projectDir: this.config.projectDir,
      parse: {
        ...this.config.parse,
        onOutput: (file, line) => this.log.debug({ file }, line),
      },
      log: this.log,
    });
    return this.#processor;
  }

  /** Parse every DAG file into the database. */
  parseDags(): Promise<ParseRunSummary> {
    return this.processor.parseAll();
  }

  /** Start the scheduler loop (once per engine). */
  startScheduler(): Scheduler {
    if (!this.#scheduler) {
      this.#scheduler = new Scheduler(this.context, this.config.scheduler, this.#retries);
      this.#scheduler.start();
    }
    return this.#scheduler;
  }

  /**
   * Start a worker; options override the configured ones. It runs each task with the executor the
   * task names: in this process (`local`), in a worker thread of its own (`thread`), or in its own
   * Kubernetes pod (`kubernetes`).
   */
  async startWorker(overrides: Partial<WorkerConfig> = {}): Promise<Worker> {
    const local = new LocalExecutor(this.#dagBag, this.plugins);
    const executors = new Executors([
      local,
      new ThreadExecutor(this.config.projectDir, local, this.config.threadExecutor),
      new KubernetesExecutor(this.context, this.#kubernetes),
    ]);
    const worker = new Worker(this.context, { ...this.config.worker, ...overrides }, executors, this.#retries);
    this.#workers.push(worker);
    await worker.start();
    return worker;
  }

  /** Stop a worker started by {@link Tributary.startWorker}. */
  async stopWorker(worker: Worker): Promise<void> {
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    await worker.stop();
  }

  /**
   * Run one try of one task instance in this process, whatever executor the task names (what a pod of
   * the `kubernetes` executor does, via `tributary tasks run`). Aborting `shutdown` stops the task.
   */
  runTaskInstance(ref: TaskTryRef, shutdown: AbortSignal = new AbortController().signal): Promise<TaskTryResult> {
    const local = new LocalExecutor(this.#dagBag, this.plugins);
    const identity = {
      id: `task-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      hostname: hostname(),
      pid: process.pid,
      executor: 'local',
    };
    return runTaskInstance(
      { ctx: this.context, executors: new Executors([local], local), retries: this.#retries, hostname: identity.hostname },
      ref,
      identity,
      shutdown,
    );
  }

  /** Create a manual run of a DAG. */
  trigger(dagId: string, options: TriggerOptions = {}): ReturnType<typeof triggerDag> {
    return triggerDag(this.context, dagId, options);
  }

  /**
   * Start the background services plugins declare for `role` (see `PluginService`); `close()` stops
   * them after the workers. Resolves with the services started.
   */
  async startPluginServices(role: PluginServiceRole): Promise<readonly StartedPluginService[]> {
    const services = await startPluginServices(this.plugins, role, this.log);
    this.#services.push(services);
    return services.started;
  }

  /** Delete a worker queue (the private queue of a finished `dags test`). */
  deleteQueue(queue: string): Promise<void> {
    return this.#queue.deleteQueue(queue);
  }

  /** Stop workers (letting running tasks finish within their grace period), the scheduler, the processor; then disconnect. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const step = async (name: string, work: () => Promise<unknown> | unknown): Promise<void> => {
        const started = performance.now();
        await work();
        this.log.debug({ ms: Math.round(performance.now() - started) }, `closed: ${name}`);
      };
      await step('workers', () => Promise.all(this.#workers.splice(0).map((w) => w.stop())));
      // Workers may still be using a plugin's service (a local site being scraped): stop services after them.
      await step('plugin services', () => Promise.all(this.#services.splice(0).map((s) => s.stop())));
      await step('scheduler', () => this.#scheduler?.stop());
      await step('callbacks', () => this.context.callbacks?.drain());
      await step('DAG processor', () => this.#processor?.stop());
      await step('retry timers', () => this.#retries.stop());
      await step('task queue', () => this.#queue.stop());
      await step('database pool', () => this.#database.close());
      await step('embedded PostgreSQL', () => this.#embedded?.stop());
    })();
    return this.#closing;
  }
}
