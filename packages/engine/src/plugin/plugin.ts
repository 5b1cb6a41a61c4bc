import type { TaskContext } from '../dag/types.js';

/** The implementation of an operator, run by a worker with the task's arguments. */
export type OperatorImplementation<A = unknown, R = unknown> = (args: A, context: TaskContext) => R | Promise<R>;

/** A plugin: a named, versioned set of operators (and, in later versions, tables, routes and checks). */
export interface TributaryPlugin {
  /** Package-style name; operators are addressed as `<name>.<operator>`. */
  readonly name: string;
  readonly version: string;
  /** Operator implementations by short name. */
  readonly operators: Readonly<Record<string, OperatorImplementation<never, unknown>>>;
}

/** Define a plugin; validates the shape so a broken plugin fails where it is declared. */
export function definePlugin<P extends TributaryPlugin>(plugin: P): P {
  if (!plugin || typeof plugin.name !== 'string' || plugin.name === '') throw new TypeError('definePlugin: name must be a non-empty string');
  if (typeof plugin.version !== 'string') throw new TypeError(`plugin '${plugin.name}': version must be a string`);
  for (const [key, value] of Object.entries(plugin.operators ?? {})) {
    if (typeof value !== 'function') throw new TypeError(`plugin '${plugin.name}': operator '${key}' must be a function`);
  }
  return Object.freeze(plugin);
}
