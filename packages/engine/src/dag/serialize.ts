import { createHash } from 'node:crypto';
import type { DirectedGraph } from 'graphology';
import { topologicalSort } from 'graphology-dag';
import stringify from 'safe-stable-stringify';
import type { Dag } from './dag.js';
import { validateDag } from './validate.js';
import { DAG_CALLBACK_KINDS, TASK_CALLBACK_KINDS, callbackKinds } from './callbacks.js';
import type { SerializedDag, SerializedTask } from './types.js';

/**
 * Validate a DAG and turn it into its stored form: plain JSON with every default applied, the
 * downstream lists and effective priorities computed, and the source of inline functions.
 */
export function serializeDag(dag: Dag, file: string | null = null): SerializedDag {
  const graph = validateDag(dag, file ?? undefined);
  const priorities = effectivePriorities(dag, graph);
  const tasks: SerializedTask[] = [];
  for (const task of dag.tasks.values()) {
    // Fields that only some tasks have are left out otherwise, so DAGs without them keep their hash.
    const callbacks = callbackKinds(task.callbacks, TASK_CALLBACK_KINDS);
    tasks.push({
      taskId: task.id,
      kind: task.kind,
      operator: task.operator?.operator ?? null,
      plugin: task.operator?.plugin ?? null,
      args: task.operator ? toJson(task.operator.args) : task.args,
      source: task.fn ? task.fn.toString() : null,
      upstream: [...task.upstream],
      downstream: graph.outNeighbors(task.id),
      ...task.options,
      effectivePriority: priorities.get(task.id) ?? task.options.priorityWeight,
      docs: task.docs,
      group: task.group,
      expand: task.expand ? task.expand.map((source) => ({ ...source })) : null,
      maxMapLength: task.maxMapLength,
      flow: task.flow,
      sensor: task.sensor,
      isSetup: task.isSetup,
      isTeardown: task.isTeardown,
      failRunOnFailure: task.failRunOnFailure,
      ...(task.outlets.length > 0 ? { outlets: [...task.outlets] } : {}),
      ...(callbacks.length > 0 ? { callbacks } : {}),
    });
  }
  const dagCallbacks = callbackKinds(dag.options.callbacks, DAG_CALLBACK_KINDS);
  const o = dag.options;
  return {
    formatVersion: 1,
    dagId: dag.id,
    description: o.description,
    docs: o.docs,
    schedule: o.schedule,
    timezone: o.timezone,
    startDate: o.startDate?.toISOString() ?? null,
    endDate: o.endDate?.toISOString() ?? null,
    catchup: o.catchup,
    tags: [...o.tags],
    pausedOnCreation: o.pausedOnCreation,
    params: o.params ? (toJson(o.params) as SerializedDag['params']) : null,
    maxActiveRuns: o.maxActiveRuns,
    maxActiveTasks: o.maxActiveTasks,
    file,
    tasks,
    ...(dagCallbacks.length > 0 ? { callbacks: dagCallbacks } : {}),
    ...(o.deadline ? { deadline: { reference: o.deadline.reference, afterMs: o.deadline.afterMs } } : {}),
  };
}

/**
 * The version hash of a serialized DAG: SHA-256 of its canonical JSON (`safe-stable-stringify`:
 * keys sorted, no spaces). The text is hashed as it is produced, a task at a time, so a DAG of
 * 10,000 tasks never becomes one string of megabytes (hashing it whole held ~70 MB at once).
 */
export function hashSerializedDag(serialized: SerializedDag): string {
  const hash = createHash('sha256');
  const fields = serialized as unknown as Record<string, unknown>;
  let first = true;
  hash.update('{');
  // The same keys in the same order as stringify writes them: sorted, undefined ones left out.
  for (const key of Object.keys(fields).sort()) {
    const value = fields[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    hash.update(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (key === 'tasks' && Array.isArray(value)) {
      hash.update('[');
      value.forEach((task, i) => hash.update(`${i === 0 ? '' : ','}${stringify(task) ?? 'null'}`));
      hash.update(']');
    } else {
      hash.update(stringify(value) ?? '');
    }
  }
  hash.update('}');
  return hash.digest('hex');
}

function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/**
 * Effective priority per task following Airflow's weight rules: `downstream` adds the weights of all
 * tasks downstream (transitively), `upstream` of all upstream, `absolute` keeps the task's own.
 * Descendant sets are bitsets built in topological order, so big DAGs stay cheap.
 */
function effectivePriorities(dag: Dag, graph: DirectedGraph): Map<string, number> {
  const result = new Map<string, number>();
  const needs = { downstream: false, upstream: false };
  for (const task of dag.tasks.values()) {
    if (task.options.weightRule === 'absolute') result.set(task.id, task.options.priorityWeight);
    else needs[task.options.weightRule] = true;
  }
  if (!needs.downstream && !needs.upstream) return result;
  const order = topologicalSort(graph);
  const index = new Map(order.map((id, i) => [id, i]));
  const weights = order.map((id) => dag.tasks.get(id)!.options.priorityWeight);
  const words = Math.ceil(order.length / 32);
  const reachable = (direction: 'downstream' | 'upstream'): Uint32Array[] => {
    const sets: Uint32Array[] = new Array(order.length);
    const sequence = direction === 'downstream' ? [...order].reverse() : order;
    for (const id of sequence) {
      const i = index.get(id)!;
      const set = new Uint32Array(words);
      const neighbours = direction === 'downstream' ? graph.outNeighbors(id) : graph.inNeighbors(id);
      for (const n of neighbours) {
        const j = index.get(n)!;
        const other = sets[j]!;
        for (let w = 0; w < words; w++) set[w]! |= other[w]!;
        set[j >>> 5]! |= 1 << (j & 31);
      }
      sets[i] = set;
    }
    return sets;
  };
  const sumOf = (set: Uint32Array): number => {
    let total = 0;
    for (let w = 0; w < set.length; w++) {
      let bits = set[w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        total += weights[(w << 5) + 31 - Math.clz32(low)]!;
        bits ^= low;
      }
    }
    return total;
  };
  const down = needs.downstream ? reachable('downstream') : [];
  const up = needs.upstream ? reachable('upstream') : [];
  for (const task of dag.tasks.values()) {
    if (task.options.weightRule === 'absolute') continue;
    const i = index.get(task.id)!;
    const set = task.options.weightRule === 'downstream' ? down[i]! : up[i]!;
    result.set(task.id, task.options.priorityWeight + sumOf(set));
  }
  return result;
}
