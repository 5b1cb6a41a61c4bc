import { DagDefinitionError, type ErrorLocation } from '../errors.js';
import { TASK_CALLBACK_KINDS, TASK_CALLBACK_OPTIONS, callbackList, type TaskCallback, type TaskCallbacks } from './callbacks.js';
import { durationToMs } from './duration.js';
import { validateExecutorConfig } from '../executor/kubernetes-options.js';
import { validateThreadConfig } from '../executor/thread-options.js';
import {
  EXECUTOR_NAMES,
  TRIGGER_RULES,
  WEIGHT_RULES,
  type Duration,
  type ExecutorName,
  type ResolvedTaskOptions,
  type TaskOptions,
  type TriggerRule,
  type WeightRule,
} from './types.js';

/** Defaults of every task option (Airflow's, except where noted in the docs). */
export const DEFAULT_TASK_OPTIONS: Readonly<ResolvedTaskOptions> = Object.freeze({
  retries: 0,
  retryDelayMs: 300_000,
  retryExponentialBackoff: false,
  maxRetryDelayMs: 86_400_000,
  executionTimeoutMs: null,
  triggerRule: 'all_success',
  pool: 'default_pool',
  poolSlots: 1,
  maxActiveInstances: null,
  maxActiveInstancesPerRun: null,
  priorityWeight: 1,
  weightRule: 'downstream',
  queue: 'default',
  executor: 'local',
  executorConfig: null,
});

/** Default of `maxActiveRuns`. */
export const DEFAULT_MAX_ACTIVE_RUNS = 16;
/** Default of `maxActiveTasks`. */
export const DEFAULT_MAX_ACTIVE_TASKS = 16;

const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$/;

/** Check a DAG or task id; returns an error message or null. @internal */
export function checkId(id: unknown, what: 'DAG' | 'task'): string | null {
  if (typeof id !== 'string') return `${what} id must be a string, got ${typeof id}`;
  if (!ID_PATTERN.test(id)) {
    return `${what} id '${id}' is invalid: use 1-250 letters, digits, '_', '-' or '.', not starting with '-' or '.'`;
  }
  return null;
}

const TASK_OPTION_KEYS = new Set<string>([
  'retries',
  'retryDelay',
  'retryExponentialBackoff',
  'maxRetryDelay',
  'executionTimeout',
  'triggerRule',
  'pool',
  'poolSlots',
  'maxActiveInstances',
  'maxActiveInstancesPerRun',
  'priorityWeight',
  'weightRule',
  'queue',
  'executor',
  'executorConfig',
  'onSuccess',
  'onFailure',
  'onRetry',
  'onSkipped',
]);

// Callbacks are functions, so they stay out of the serializable options; each resolved options
// object carries its callbacks here (defaults of a DAG or group pass on to their tasks this way).
const CALLBACKS = new WeakMap<Readonly<ResolvedTaskOptions>, TaskCallbacks>();

/** The callbacks that go with resolved task options (their own over their defaults'). @internal */
export function callbacksOf(options: Readonly<ResolvedTaskOptions>): TaskCallbacks {
  return CALLBACKS.get(options) ?? {};
}

/**
 * Apply `options` over `base`, validating each field; errors name the field.
 * @internal
 */
export function resolveTaskOptions(
  options: TaskOptions | undefined,
  base: Readonly<ResolvedTaskOptions>,
  location: ErrorLocation,
  extraKeys: ReadonlySet<string> = new Set(),
): ResolvedTaskOptions {
  const resolved: ResolvedTaskOptions = { ...base };
  if (options === undefined) {
    if (CALLBACKS.has(base)) CALLBACKS.set(resolved, CALLBACKS.get(base)!);
    return resolved;
  }
  if (options === null || typeof options !== 'object') {
    throw new DagDefinitionError(`task options must be an object, got ${options === null ? 'null' : typeof options}`, location);
  }
  const fail = (field: string, message: string): never => {
    throw new DagDefinitionError(`option '${field}': ${message}`, { ...location, field });
  };
  for (const key of Object.keys(options)) {
    if (!TASK_OPTION_KEYS.has(key) && !extraKeys.has(key)) {
      fail(key, `unknown option (expected one of ${[...TASK_OPTION_KEYS, ...extraKeys].join(', ')})`);
    }
  }
  const duration = (field: string, value: Duration): number => {
    const result = durationToMs(value);
    return typeof result === 'number' ? result : fail(field, result);
  };
  const integer = (field: string, value: unknown, min: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      return fail(field, `expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const text = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') return fail(field, `expected a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  };

  if (options.retries !== undefined) resolved.retries = integer('retries', options.retries, 0);
  if (options.retryDelay !== undefined) resolved.retryDelayMs = duration('retryDelay', options.retryDelay);
  if (options.retryExponentialBackoff !== undefined) {
    if (typeof options.retryExponentialBackoff !== 'boolean') fail('retryExponentialBackoff', 'expected true or false');
    resolved.retryExponentialBackoff = options.retryExponentialBackoff;
  }
  if (options.maxRetryDelay !== undefined) resolved.maxRetryDelayMs = duration('maxRetryDelay', options.maxRetryDelay);
  if (options.executionTimeout !== undefined) {
    resolved.executionTimeoutMs =
      options.executionTimeout === null ? null : duration('executionTimeout', options.executionTimeout);
    if (resolved.executionTimeoutMs === 0) fail('executionTimeout', 'must be greater than zero (or null for no limit)');
  }
  if (options.triggerRule !== undefined) {
    if (!TRIGGER_RULES.includes(options.triggerRule as TriggerRule)) {
      fail('triggerRule', `unknown trigger rule '${String(options.triggerRule)}' (expected one of ${TRIGGER_RULES.join(', ')})`);
    }
    resolved.triggerRule = options.triggerRule;
  }
  if (options.pool !== undefined) resolved.pool = text('pool', options.pool);
  if (options.poolSlots !== undefined) resolved.poolSlots = integer('poolSlots', options.poolSlots, 1);
  for (const field of ['maxActiveInstances', 'maxActiveInstancesPerRun'] as const) {
    const value = options[field];
    if (value !== undefined) resolved[field] = value === null ? null : integer(field, value, 1);
  }
  if (options.priorityWeight !== undefined) {
    if (!Number.isInteger(options.priorityWeight)) fail('priorityWeight', `expected an integer, got ${JSON.stringify(options.priorityWeight)}`);
    resolved.priorityWeight = options.priorityWeight;
  }
  if (options.weightRule !== undefined) {
    if (!WEIGHT_RULES.includes(options.weightRule as WeightRule)) {
      fail('weightRule', `unknown weight rule '${String(options.weightRule)}' (expected one of ${WEIGHT_RULES.join(', ')})`);
    }
    resolved.weightRule = options.weightRule;
  }
  if (options.queue !== undefined) resolved.queue = text('queue', options.queue);
  if (options.executor !== undefined) {
    if (!EXECUTOR_NAMES.includes(options.executor as ExecutorName)) {
      fail('executor', `unknown executor '${String(options.executor)}' (expected one of ${EXECUTOR_NAMES.join(', ')})`);
    }
    resolved.executor = options.executor;
  }
  if (options.executorConfig !== undefined) {
    if (options.executorConfig === null) resolved.executorConfig = null;
    else {
      const problem = resolved.executor === 'thread' ? validateThreadConfig(options.executorConfig) : validateExecutorConfig(options.executorConfig);
      if (problem) fail(`executorConfig${problem.path ? `.${problem.path}` : ''}`, problem.message);
      resolved.executorConfig = JSON.parse(JSON.stringify(options.executorConfig)) as Record<string, unknown>;
    }
  }
  const callbacks: Partial<Record<(typeof TASK_CALLBACK_KINDS)[number], readonly TaskCallback[]>> = { ...callbacksOf(base) };
  for (const kind of TASK_CALLBACK_KINDS) {
    const field = TASK_CALLBACK_OPTIONS[kind];
    if (options[field] === undefined) continue;
    const list = callbackList<TaskCallback>(options[field]);
    if (typeof list === 'string') fail(field, list);
    else if (list.length === 0) delete callbacks[kind];
    else callbacks[kind] = list;
  }
  if (Object.keys(callbacks).length > 0) CALLBACKS.set(resolved, Object.freeze(callbacks));
  return resolved;
}
