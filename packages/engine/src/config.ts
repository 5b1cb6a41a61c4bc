import { delimiter, isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_MAX_MAP_LENGTH } from './dag/mapping.js';
import { ConfigError } from './errors.js';
import { resolveKubernetesConfig, type KubernetesConfig, type ResolvedKubernetesConfig } from './executor/kubernetes-config.js';
import type { TributaryPlugin } from './plugin/plugin.js';
import { LocalDirectoryObjectStore } from './storage/local-object-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { resolveXcomOffloadConfig, type ResolvedXcomOffloadConfig, type XcomOffloadConfig } from './storage/xcom-store.js';
import { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig } from './scheduler/scheduler.js';
import { DEFAULT_WORKER_CONFIG, type WorkerConfig } from './worker/worker.js';
import { DEFAULT_THREAD_EXECUTOR_CONFIG, type ThreadExecutorConfig } from './executor/thread-executor.js';

/** Options of the engine. Environment variables fill what is left out (see {@link resolveEngineConfig}). */
export interface EngineConfig {
  /**
   * PostgreSQL connection string. Without one, an embedded PostgreSQL is started with its data under
   * `dataDir`.
   * @defaultValue `$DATABASE_URL`
   */
  databaseUrl?: string | null;
  /**
   * Directory DAG file paths are stored relative to.
   * @defaultValue the current directory
   */
  projectDir?: string;
  /**
   * Most connections this process opens to the metadata database (pg-boss adds a few of its own).
   * @defaultValue 20
   */
  poolSize?: number;
  /**
   * Folders holding DAG files (relative to `projectDir`).
   * @defaultValue `$TRIBUTARY_DAGS_FOLDER` (several separated by `:`), else `['dags']`
   */
  dagsFolders?: readonly string[];
  /**
   * Where local state lives: the embedded database.
   * @defaultValue `$TRIBUTARY_DATA_DIR`, else `<projectDir>/.tributary`
   */
  dataDir?: string;
  /** DAG file parsing. */
  parse?: {
    /** @defaultValue 30000 */
    timeoutMs?: number;
    /** @defaultValue CPUs, at most 8 */
    threads?: number;
    /** @defaultValue 1024 */
    memoryLimitMb?: number;
  };
  scheduler?: Partial<SchedulerConfig>;
  worker?: Partial<WorkerConfig>;
  /**
   * How often workers report their running tasks alive.
   * @defaultValue 5000
   */
  heartbeatIntervalMs?: number;
  /**
   * A running task whose worker has not reported for this long is failed (and retried if it can be).
   * @defaultValue 20000
   */
  heartbeatTimeoutMs?: number;
  /**
   * Largest task result stored as XCom in the database, in bytes. Without `xcomOffload`, a larger
   * result fails its task (`XCOM_TOO_LARGE`).
   * @defaultValue 1048576
   */
  xcomMaxBytes?: number;
  /**
   * Offload large task results to `objectStore`: a result over `thresholdBytes` (default
   * `xcomMaxBytes`) is written to the object store as `xcom/<dag>/<run>/<task>/<map index>/<try>.json`
   * in `bucket` (default `'tributary'`) and its XCom row holds a reference; downstream tasks,
   * templates, the REST API and `dags test` read it back transparently. Results over `maxBytes`
   * (default 256 MiB) fail the task. `{}` turns it on with every default; null leaves it off.
   * The object store needs `get` as well as `put`. The engine does not delete offloaded objects.
   * @defaultValue null (off)
   */
  xcomOffload?: XcomOffloadConfig | null;
  /**
   * Most instances a mapped task may expand into (Airflow's `max_map_length`); a task's own
   * `maxMapLength` option overrides it. A longer input fails the task with an error naming the cap.
   * @defaultValue `$TRIBUTARY_MAX_MAP_LENGTH`, else 1024
   */
  maxMapLength?: number;
  /**
   * Longest a task or DAG callback (`onSuccess`, `onFailure`, …, a deadline's `callback`) may run;
   * its `signal` is aborted then and the engine stops waiting for it (logged, nothing changed).
   * @defaultValue 30000
   */
  callbackTimeoutMs?: number;
  /**
   * Level of the engine's own logs.
   * @defaultValue `$TRIBUTARY_LOG_LEVEL`, else `'info'`
   */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** A pino logger to use instead of creating one. */
  logger?: Logger;
  /**
   * Plugins loaded when the engine opens (their migrations applied then): plugin objects, or names of
   * npm packages exporting one (resolved from `projectDir`). Plugins not listed are imported on first
   * use by the package their operator specs name.
   * @defaultValue []
   */
  plugins?: readonly (TributaryPlugin | string)[];
  /** The `thread` executor: each task in a worker thread of its own heap (see docs/executors.md). */
  threadExecutor?: Partial<ThreadExecutorConfig>;
  /** The Kubernetes cluster of the `kubernetes` executor and the `kubernetesPod` operator (see docs/executors.md). */
  kubernetes?: KubernetesConfig;
  /**
   * The object store the `objectSensor` watches and `xcomOffload` writes to: an {@link ObjectStore} (e.g. an S3 adapter), or
   * `{ root }`, a local directory (relative to `projectDir`) holding a folder per bucket.
   * @defaultValue a local directory: `<dataDir>/objects`
   */
  objectStore?: ObjectStore | { root: string };
}

/** The engine's options after validation, with every default applied. */
export interface ResolvedEngineConfig {
  readonly databaseUrl: string | null;
  readonly projectDir: string;
  readonly poolSize: number;
  readonly dagsFolders: readonly string[];
  readonly dataDir: string;
  readonly parse: { readonly timeoutMs: number; readonly threads: number | undefined; readonly memoryLimitMb: number };
  readonly scheduler: Readonly<SchedulerConfig>;
  readonly worker: Readonly<WorkerConfig>;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly xcomMaxBytes: number;
  readonly xcomOffload: ResolvedXcomOffloadConfig | null;
  readonly maxMapLength: number;
  readonly callbackTimeoutMs: number;
  readonly logLevel: NonNullable<EngineConfig['logLevel']>;
  readonly logger: Logger | undefined;
  readonly plugins: readonly (TributaryPlugin | string)[];
  readonly threadExecutor: Readonly<ThreadExecutorConfig>;
  readonly kubernetes: ResolvedKubernetesConfig;
  readonly objectStore: ObjectStore;
}

/** Defaults of the engine's timing and size options. */
export const DEFAULT_ENGINE_CONFIG = Object.freeze({
  heartbeatIntervalMs: 5_000,
  heartbeatTimeoutMs: 20_000,
  xcomMaxBytes: 1_048_576,
  maxMapLength: DEFAULT_MAX_MAP_LENGTH,
  callbackTimeoutMs: 30_000,
  parseTimeoutMs: 30_000,
  parseMemoryLimitMb: 1024,
  logLevel: 'info' as const,
});

const positiveInt = z.number().int().positive();
const schema = z
  .object({
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// connection string")
      .nullable()
      .optional(),
    projectDir: z.string().min(1).optional(),
    poolSize: z.number().int().min(2).optional(),
    dagsFolders: z.array(z.string().min(1)).min(1).optional(),
    dataDir: z.string().min(1).optional(),
    parse: z
      .object({ timeoutMs: positiveInt.optional(), threads: positiveInt.optional(), memoryLimitMb: z.number().int().min(64).optional() })
      .strict()
      .optional(),
    scheduler: z
      .object({ loopIntervalMs: positiveInt.optional(), sweepIntervalMs: positiveInt.optional(), requeueAfterMs: positiveInt.optional() })
      .strict()
      .optional(),
    worker: z
      .object({
        queues: z.array(z.string().min(1)).min(1).optional(),
        concurrency: positiveInt.optional(),
        shutdownGraceMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    heartbeatIntervalMs: positiveInt.optional(),
    heartbeatTimeoutMs: positiveInt.optional(),
    xcomMaxBytes: positiveInt.optional(),
    xcomOffload: z
      .object({
        thresholdBytes: positiveInt.optional(),
        maxBytes: positiveInt.optional(),
        bucket: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "expected 1-63 letters, digits, '.', '_' or '-'").optional(),
      })
      .strict()
      .nullable()
      .optional(),
    maxMapLength: positiveInt.optional(),
    callbackTimeoutMs: positiveInt.optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
    logger: z.any().optional(),
    plugins: z
      .array(z.union([z.string().min(1), z.object({ name: z.string(), operators: z.record(z.string(), z.unknown()) }).passthrough()], { error: 'expected an npm package name or a plugin object (definePlugin())' }))
      .optional(),
    threadExecutor: z
      .object({ memoryLimitMb: z.number().int().min(16).optional(), killGraceMs: z.number().int().min(0).optional() })
      .strict()
      .optional(),
    kubernetes: z.record(z.string(), z.unknown()).optional(),
    objectStore: z
      .union([
        z.object({ root: z.string().min(1) }).strict(),
        z.custom<ObjectStore>((v) => typeof (v as ObjectStore | null)?.stat === 'function' && typeof (v as ObjectStore).list === 'function'),
      ], { error: 'expected { root: directory } or an object store (stat, list, put, get)' })
      .optional(),
  })
  .strict();

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`expected a positive integer, got '${raw}'`, name);
  return value;
}

/**
 * Validate engine options and apply defaults, reading `DATABASE_URL`, `TRIBUTARY_DAGS_FOLDER`,
 * `TRIBUTARY_DATA_DIR`, `TRIBUTARY_LOG_LEVEL`, `TRIBUTARY_WORKER_CONCURRENCY`, `TRIBUTARY_MAX_MAP_LENGTH`,
 * `TRIBUTARY_HEARTBEAT_INTERVAL_MS` and `TRIBUTARY_HEARTBEAT_TIMEOUT_MS` for options not given.
 * Throws {@link ConfigError} naming the field.
 */
export function resolveEngineConfig(config: EngineConfig = {}, env: NodeJS.ProcessEnv = process.env): ResolvedEngineConfig {
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(issue.message, issue.path.join('.') || undefined);
  }
  const projectDir = resolve(config.projectDir ?? process.cwd());
  const absolute = (p: string): string => (isAbsolute(p) ? p : resolve(projectDir, p));
  const envFolders = env.TRIBUTARY_DAGS_FOLDER ? env.TRIBUTARY_DAGS_FOLDER.split(delimiter).filter(Boolean) : undefined;
  const databaseUrl = config.databaseUrl === undefined ? (env.DATABASE_URL || null) : config.databaseUrl;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("expected a postgres:// or postgresql:// connection string", 'DATABASE_URL');
  }
  const logLevel = config.logLevel ?? (env.TRIBUTARY_LOG_LEVEL as EngineConfig['logLevel']) ?? DEFAULT_ENGINE_CONFIG.logLevel;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new ConfigError(`expected one of trace, debug, info, warn, error, fatal, silent, got '${logLevel}'`, 'TRIBUTARY_LOG_LEVEL');
  }
  const heartbeatIntervalMs = config.heartbeatIntervalMs ?? envInt(env, 'TRIBUTARY_HEARTBEAT_INTERVAL_MS') ?? DEFAULT_ENGINE_CONFIG.heartbeatIntervalMs;
  const heartbeatTimeoutMs = config.heartbeatTimeoutMs ?? envInt(env, 'TRIBUTARY_HEARTBEAT_TIMEOUT_MS') ?? DEFAULT_ENGINE_CONFIG.heartbeatTimeoutMs;
  if (heartbeatTimeoutMs <= heartbeatIntervalMs * 2) {
    throw new ConfigError(
      `must be more than twice heartbeatIntervalMs (${heartbeatIntervalMs} ms), got ${heartbeatTimeoutMs} ms; otherwise healthy tasks are failed as zombies`,
      'heartbeatTimeoutMs',
    );
  }
  const dataDir = absolute(config.dataDir ?? env.TRIBUTARY_DATA_DIR ?? '.tributary');
  const store = config.objectStore;
  const objectStore =
    store === undefined
      ? new LocalDirectoryObjectStore(resolve(dataDir, 'objects'))
      : typeof (store as ObjectStore).stat === 'function'
        ? (store as ObjectStore)
        : new LocalDirectoryObjectStore(absolute((store as { root: string }).root));
  const xcomMaxBytes = config.xcomMaxBytes ?? DEFAULT_ENGINE_CONFIG.xcomMaxBytes;
  const xcomOffload = resolveXcomOffloadConfig(config.xcomOffload, xcomMaxBytes);
  if (xcomOffload && (typeof objectStore.get !== 'function' || typeof objectStore.put !== 'function')) {
    throw new ConfigError('needs an object store with get() and put() (see objectStore)', 'xcomOffload');
  }
  return Object.freeze({
    databaseUrl,
    projectDir,
    poolSize: config.poolSize ?? 20,
    dagsFolders: Object.freeze((config.dagsFolders ?? envFolders ?? ['dags']).map(absolute)),
    dataDir,
    parse: Object.freeze({
      timeoutMs: config.parse?.timeoutMs ?? DEFAULT_ENGINE_CONFIG.parseTimeoutMs,
      threads: config.parse?.threads,
      memoryLimitMb: config.parse?.memoryLimitMb ?? DEFAULT_ENGINE_CONFIG.parseMemoryLimitMb,
    }),
    scheduler: Object.freeze({ ...DEFAULT_SCHEDULER_CONFIG, ...config.scheduler }),
    worker: Object.freeze({
      ...DEFAULT_WORKER_CONFIG,
      concurrency: envInt(env, 'TRIBUTARY_WORKER_CONCURRENCY') ?? DEFAULT_WORKER_CONFIG.concurrency,
      ...config.worker,
    }),
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    xcomMaxBytes,
    xcomOffload,
    maxMapLength: config.maxMapLength ?? envInt(env, 'TRIBUTARY_MAX_MAP_LENGTH') ?? DEFAULT_ENGINE_CONFIG.maxMapLength,
    callbackTimeoutMs: config.callbackTimeoutMs ?? DEFAULT_ENGINE_CONFIG.callbackTimeoutMs,
    logLevel,
    logger: config.logger,
    plugins: Object.freeze([...(config.plugins ?? [])]),
    threadExecutor: Object.freeze({ ...DEFAULT_THREAD_EXECUTOR_CONFIG, ...config.threadExecutor }),
    kubernetes: resolveKubernetesConfig(
      config.kubernetes?.kubeconfig ? { ...config.kubernetes, kubeconfig: absolute(config.kubernetes.kubeconfig) } : config.kubernetes,
      env,
    ),
    objectStore,
  });
}
