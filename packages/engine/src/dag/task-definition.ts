import { DagDefinitionError, type ErrorLocation } from '../errors.js';
import { checkMapLength, mapLength, type SerializedExpandSource } from './mapping.js';
import { checkAssetUri } from '../schedule/assets.js';
import type { TaskCallbacks } from './callbacks.js';
import { callbacksOf, checkId, resolveTaskOptions } from './options.js';
import { resolveSensorOptions, type ResolvedSensorOptions } from './sensor-options.js';
import type {
  OperatorSpec,
  ResolvedTaskOptions,
  SerializedFlow,
  TaskDefinitionOptions,
  TaskFunction,
  TaskRef,
  TeardownOptions,
} from './types.js';

/** One task of a DAG as defined in its file. */
export interface TaskDefinition {
  readonly id: string;
  readonly kind: 'function' | 'operator';
  /** The inline function (or a sensor's poke), for `kind: 'function'`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly fn: TaskFunction<any, any, unknown, any> | null;
  /** The operator spec, for `kind: 'operator'`. */
  readonly operator: OperatorSpec | null;
  /** Upstream task ids, in the order given. */
  readonly upstream: readonly string[];
  readonly options: Readonly<ResolvedTaskOptions>;
  readonly docs: string | null;
  /** The innermost group holding the task, null at the top level. */
  readonly group: string | null;
  /** A function task's fixed arguments; null when it has none (an operator's are in its spec). */
  readonly args: Readonly<Record<string, unknown>> | null;
  readonly expand: readonly SerializedExpandSource[] | null;
  readonly maxMapLength: number | null;
  readonly flow: SerializedFlow | null;
  readonly sensor: ResolvedSensorOptions | null;
  readonly isSetup: boolean;
  readonly isTeardown: boolean;
  readonly failRunOnFailure: boolean;
  /** Asset URIs the task updates. */
  readonly outlets: readonly string[];
  /** Its callbacks (own, or from the DAG's or group's `defaultTaskOptions`). */
  readonly callbacks: TaskCallbacks;
}

/** What kind of task a builder method defines. @internal */
export type TaskKind = 'task' | 'sensor' | 'branch' | 'short_circuit';

/** A request to define a task, as a builder method received it. @internal */
export interface TaskRequest {
  /** Full id, group prefix included. */
  readonly id: string;
  readonly group: string | null;
  readonly defaults: Readonly<ResolvedTaskOptions>;
  readonly kind: TaskKind;
  readonly second: unknown;
  readonly third: unknown;
}

/** What building a definition needs from the DAG. @internal */
export interface DefinitionScope {
  readonly dagId: string;
  /** Upstream refs, ids or group refs as task ids; throws naming the field. */
  resolveUpstream(upstream: unknown, location: ErrorLocation, field: string): string[];
  /** A task already defined in the DAG. */
  task(id: string): TaskDefinition | undefined;
}

const BASE_EXTRA_KEYS = ['upstream', 'docs', 'args', 'expand', 'maxMapLength', 'sensor', 'setup', 'teardown', 'outlets'];

function isOperatorSpec(value: unknown): value is OperatorSpec {
  return value !== null && typeof value === 'object' && typeof (value as OperatorSpec).operator === 'string' && 'args' in (value as object);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function toJson(value: unknown, fail: (message: string) => never): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (error) {
    return fail(`must be JSON-serializable: ${(error as Error).message}`);
  }
}

/** Validate a task request and build its definition; every error names the DAG, task and option. @internal */
export function buildTaskDefinition(request: TaskRequest, scope: DefinitionScope): TaskDefinition {
  const { id, kind, second, third } = request;
  const location: ErrorLocation = { dagId: scope.dagId, taskId: id };
  const usage =
    kind === 'task'
      ? 'task(id, fn), task(id, options, fn) or task(id, operatorSpec, options?)'
      : `${kind === 'short_circuit' ? 'shortCircuit' : kind}(id, fn) or ${kind === 'short_circuit' ? 'shortCircuit' : kind}(id, options, fn)`;
  let fn: TaskDefinition['fn'] = null;
  let operator: OperatorSpec | null = null;
  let options: TaskDefinitionOptions & { ignoreDownstreamTriggerRules?: boolean } = {};
  if (typeof second === 'function') {
    if (third !== undefined) throw new DagDefinitionError(`pass options before the function: ${usage}`, location);
    fn = second as TaskDefinition['fn'];
  } else if ((kind === 'task' || kind === 'short_circuit') && isOperatorSpec(second)) {
    operator = second;
    options = (third as TaskDefinitionOptions | undefined) ?? {};
  } else if (typeof third === 'function') {
    options = second as TaskDefinitionOptions;
    fn = third as TaskDefinition['fn'];
  } else {
    throw new DagDefinitionError(`expected ${usage}`, location);
  }
  const extraKeys = new Set(kind === 'short_circuit' ? [...BASE_EXTRA_KEYS, 'ignoreDownstreamTriggerRules'] : BASE_EXTRA_KEYS);
  const resolved = resolveTaskOptions(options, request.defaults, location, extraKeys);
  options ??= {};
  const fail = (field: string, message: string): never => {
    throw new DagDefinitionError(`option '${field}': ${message}`, { ...location, field });
  };
  const upstream = scope.resolveUpstream(options.upstream, location, 'upstream');
  if (options.docs !== undefined && typeof options.docs !== 'string') fail('docs', 'expected a string');

  let args: Record<string, unknown> | null = null;
  if (options.args !== undefined) {
    if (operator) fail('args', "is for function tasks; an operator's arguments are in its spec");
    if (!isPlainObject(options.args)) fail('args', 'expected an object of arguments');
    args = toJson(options.args, (m) => fail('args', m)) as Record<string, unknown>;
  }

  const isSensor = kind === 'sensor' || operator?.kind === 'sensor';
  if (options.sensor !== undefined && !isSensor) fail('sensor', 'is only for sensors (Dag.sensor() or a sensor operator)');
  const sensor = isSensor ? resolveSensorOptions(options.sensor, location) : null;

  const flow: SerializedFlow | null =
    kind === 'branch'
      ? { kind: 'branch' }
      : kind === 'short_circuit'
        ? { kind: 'short_circuit', ignoreDownstreamTriggerRules: options.ignoreDownstreamTriggerRules ?? true }
        : null;
  if (kind === 'short_circuit' && typeof (flow as { ignoreDownstreamTriggerRules: unknown }).ignoreDownstreamTriggerRules !== 'boolean') {
    fail('ignoreDownstreamTriggerRules', 'expected true or false');
  }

  const expand = resolveExpand(options, operator, args, scope, location, fail);
  if (expand && flow) fail('expand', 'a branch or short-circuit task cannot be mapped');
  let maxMapLength: number | null = null;
  if (options.maxMapLength !== undefined) {
    if (!expand) fail('maxMapLength', 'is only for mapped tasks (with expand)');
    if (!Number.isInteger(options.maxMapLength) || options.maxMapLength < 1) fail('maxMapLength', `expected an integer >= 1, got ${JSON.stringify(options.maxMapLength)}`);
    maxMapLength = options.maxMapLength;
    if (expand!.every((s) => 'values' in s)) {
      const length = mapLength({ lists: expand!.map((s) => (s as { values: unknown[] }).values), names: [] });
      try {
        checkMapLength({ dagId: scope.dagId, taskId: id }, length, maxMapLength, 'task');
      } catch (error) {
        throw new DagDefinitionError(`option 'expand': ${(error as Error).message.replace(/^DAG '[^']*': task '[^']*': /, '')}`, { ...location, field: 'expand' });
      }
    }
  }
  for (const source of expand ?? []) if ('upstream' in source && !upstream.includes(source.upstream)) upstream.push(source.upstream);

  const isSetup = options.setup ?? false;
  if (typeof isSetup !== 'boolean') fail('setup', 'expected true or false');
  const teardown = resolveTeardown(options.teardown, scope, location, fail);
  if (isSetup && teardown) fail('teardown', 'a task cannot be both a setup and a teardown');
  if ((isSetup || teardown) && (expand || flow || sensor)) {
    fail(isSetup ? 'setup' : 'teardown', 'setup and teardown tasks cannot be mapped, branch, short-circuit or sensors');
  }
  if (teardown) {
    if (options.triggerRule !== undefined && options.triggerRule !== 'all_done_setup_success') {
      fail('triggerRule', `a teardown always uses 'all_done_setup_success' (got '${options.triggerRule}')`);
    }
    resolved.triggerRule = 'all_done_setup_success';
    for (const setupId of teardown.setups) if (!upstream.includes(setupId)) upstream.push(setupId);
  }
  if (upstream.includes(id)) fail('upstream', 'a task cannot depend on itself');
  const outlets = resolveOutlets(options.outlets, fail);

  return Object.freeze({
    id,
    kind: fn ? 'function' : 'operator',
    fn,
    operator,
    upstream: Object.freeze(upstream),
    options: Object.freeze(resolved),
    docs: options.docs ?? null,
    group: request.group,
    args: args === null ? null : Object.freeze(args),
    expand: expand ? Object.freeze(expand) : null,
    maxMapLength,
    flow,
    sensor: sensor ? Object.freeze(sensor) : null,
    isSetup,
    isTeardown: teardown !== null,
    failRunOnFailure: teardown?.failRunOnFailure ?? false,
    outlets,
    callbacks: callbacksOf(resolved),
  });
}

function resolveOutlets(value: unknown, fail: (field: string, message: string) => never): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) return fail('outlets', `expected an array of asset URIs, got ${value === null ? 'null' : typeof value}`);
  value.forEach((uri, index) => {
    const problem = checkAssetUri(uri);
    if (problem) fail(`outlets[${index}]`, problem);
  });
  return Object.freeze([...new Set(value as string[])]);
}

function resolveExpand(
  options: TaskDefinitionOptions,
  operator: OperatorSpec | null,
  args: Record<string, unknown> | null,
  scope: DefinitionScope,
  location: ErrorLocation,
  fail: (field: string, message: string) => never,
): SerializedExpandSource[] | null {
  if (options.expand === undefined) return null;
  if (!isPlainObject(options.expand) || Object.keys(options.expand).length === 0) {
    fail('expand', 'expected an object mapping argument names to lists or upstream task refs');
  }
  const fixed = operator ? operator.args : args;
  if (operator && !isPlainObject(operator.args)) fail('expand', `the operator's arguments must be an object to map over, got ${JSON.stringify(operator.args)}`);
  const sources: SerializedExpandSource[] = [];
  for (const [name, value] of Object.entries(options.expand)) {
    const field = `expand.${name}`;
    if (fixed && Object.hasOwn(fixed as object, name)) fail(field, `'${name}' is also a fixed argument; give it in one place only`);
    if (Array.isArray(value)) {
      sources.push({ name, values: toJson(value, (m) => fail(field, m)) as unknown[] });
    } else if (value !== null && typeof value === 'object' && typeof (value as TaskRef).id === 'string') {
      if ((value as { kind?: string }).kind === 'group') fail(field, 'expected a list or a task ref, got a group ref');
      const [upstream] = scope.resolveUpstream([value], location, field);
      sources.push({ name, upstream: upstream! });
    } else {
      fail(field, `expected a list or an upstream task ref, got ${value === null ? 'null' : typeof value}`);
    }
  }
  return sources;
}

function resolveTeardown(
  value: TaskDefinitionOptions['teardown'],
  scope: DefinitionScope,
  location: ErrorLocation,
  fail: (field: string, message: string) => never,
): { setups: string[]; failRunOnFailure: boolean } | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { setups: [], failRunOnFailure: false };
  if (!isPlainObject(value)) return fail('teardown', 'expected true or { setups, failRunOnFailure }');
  const options = value as TeardownOptions;
  for (const key of Object.keys(options)) if (key !== 'setups' && key !== 'failRunOnFailure') fail(`teardown.${key}`, 'unknown option (expected setups, failRunOnFailure)');
  const setups = scope.resolveUpstream(options.setups, location, 'teardown.setups');
  for (const setupId of setups) {
    const setup = scope.task(setupId);
    if (setup && !setup.isSetup) fail('teardown.setups', `task '${setupId}' is not a setup task (define it with setup: true)`);
  }
  if (options.failRunOnFailure !== undefined && typeof options.failRunOnFailure !== 'boolean') fail('teardown.failRunOnFailure', 'expected true or false');
  return { setups, failRunOnFailure: options.failRunOnFailure ?? false };
}

/** Check a task id given to a builder method (before any group prefix). @internal */
export function checkTaskId(id: unknown, dagId: string): void {
  const problem = checkId(id, 'task');
  if (problem) throw new DagDefinitionError(problem, { dagId });
}
