import { TributaryError } from '../errors.js';
import type { TaskRef } from './types.js';

/**
 * What a mapped task expands over, per argument name: a literal list, or an upstream task whose result
 * is a list (a mapped upstream's result is the list of its instances' results). With several names,
 * one instance runs per combination (the cartesian product, the last name varying fastest), as
 * Airflow's `expand(a=…, b=…)`.
 */
export type ExpandInput = Readonly<Record<string, readonly unknown[] | TaskRef<string, readonly unknown[]>>>;

type ElementOf<V> = V extends TaskRef<string, infer R> ? (R extends readonly (infer T)[] ? T : unknown) : V extends readonly (infer T)[] ? T : never;

/** The arguments one instance of a mapped task receives for its `expand` input. */
export type MappedArgs<E> = { readonly [K in keyof E]: ElementOf<E[K]> };

/** One `expand` argument as stored: a literal list, or the id of the upstream task whose result is the list. */
export type SerializedExpandSource = { readonly name: string } & ({ readonly values: unknown[] } | { readonly upstream: string });

/** The map length cap applied when neither the task nor the engine sets one (Airflow's `max_map_length`). */
export const DEFAULT_MAX_MAP_LENGTH = 1024;

/** A mapped task cannot expand: its input is not a list, or it is longer than the cap. */
export class TaskMappingError extends TributaryError {
  constructor(code: 'MAP_INPUT_INVALID' | 'MAP_TOO_LONG', dagId: string, taskId: string, message: string) {
    super(code, `DAG '${dagId}': task '${taskId}': ${message}`, { location: { dagId, taskId, field: 'expand' } });
  }
}

/** Where a mapped task's inputs come from, resolved for one run. */
export interface ExpandValues {
  /** The list each `expand` argument maps over, in declaration order. */
  readonly lists: readonly (readonly unknown[])[];
  readonly names: readonly string[];
}

/**
 * Resolve the lists of a mapped task's `expand` input: literal lists as stored, upstream ones from
 * `results` (upstream task id → result). Throws {@link TaskMappingError} naming the argument when an
 * upstream result is not a list.
 */
export function resolveExpandValues(
  where: { dagId: string; taskId: string },
  sources: readonly SerializedExpandSource[],
  results: Readonly<Record<string, unknown>>,
): ExpandValues {
  const lists = sources.map((source) => {
    if ('values' in source) return source.values;
    const value = results[source.upstream];
    if (!Array.isArray(value)) {
      const got = value === undefined ? 'no result' : value === null ? 'null' : typeof value;
      throw new TaskMappingError(
        'MAP_INPUT_INVALID',
        where.dagId,
        where.taskId,
        `expand '${source.name}' maps over the result of task '${source.upstream}', which must be an array, got ${got}`,
      );
    }
    return value as unknown[];
  });
  return { lists, names: sources.map((s) => s.name) };
}

/** How many instances a mapped task has: the product of its lists' lengths. */
export function mapLength(values: ExpandValues): number {
  return values.lists.reduce((product, list) => product * list.length, 1);
}

/**
 * Check a map length against the cap; throws {@link TaskMappingError} naming the DAG, task, length
 * and cap, and how to raise it.
 */
export function checkMapLength(where: { dagId: string; taskId: string }, length: number, cap: number, capSource: 'task' | 'engine'): void {
  if (length <= cap) return;
  throw new TaskMappingError(
    'MAP_TOO_LONG',
    where.dagId,
    where.taskId,
    `cannot expand into ${length} instances: over the map length cap of ${cap} ` +
      (capSource === 'task' ? "(the task's maxMapLength option)" : "(the engine's maxMapLength; a task may set its own maxMapLength)"),
  );
}

/**
 * The arguments of instance `mapIndex`: one element of each list, the last list varying fastest.
 * Throws {@link TaskMappingError} when the index is past the end (the input shrank since expansion).
 */
export function mappedArgsAt(where: { dagId: string; taskId: string }, values: ExpandValues, mapIndex: number): Record<string, unknown> {
  const length = mapLength(values);
  if (mapIndex < 0 || mapIndex >= length) {
    throw new TaskMappingError(
      'MAP_INPUT_INVALID',
      where.dagId,
      where.taskId,
      `instance ${mapIndex} has no input: the expand input now has ${length} element(s) (an upstream result changed since the task was expanded)`,
    );
  }
  const elements: unknown[] = new Array(values.lists.length);
  let rest = mapIndex;
  for (let i = values.lists.length - 1; i >= 0; i--) {
    const list = values.lists[i]!;
    elements[i] = list[rest % list.length];
    rest = Math.floor(rest / list.length);
  }
  return Object.fromEntries(values.names.map((name, i) => [name, elements[i]]));
}
