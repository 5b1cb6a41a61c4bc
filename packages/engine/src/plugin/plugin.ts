import type { Migration } from 'kysely/migration';
import type { TaskContext } from '../dag/types.js';

/** The implementation of an operator, run by a worker with the task's arguments. */
export type OperatorImplementation<A = unknown, R = unknown> = (args: A, context: TaskContext) => R | Promise<R>;

/** Outcome of a plugin health check. */
export interface HealthCheckResult {
  ok: boolean;
  /** What was checked or what is wrong, for operators. */
  detail?: string;
}

/**
 * HTTP routes a plugin serves, mounted by the web server under `/plugins/<plugin name>/`. A Hono app
 * satisfies this (its `fetch`), as does any fetch-style handler.
 */
export interface PluginRoutes {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * A plugin: a named, versioned set of operators, and optionally the tables, routes and health checks
 * that go with them. Export one as the default export of a package built with {@link definePlugin}.
 */
export interface TributaryPlugin {
  /** Short name; operators are addressed as `<name>.<operator>`. */
  readonly name: string;
  readonly version: string;
  /** Operator implementations by short name. */
  readonly operators: Readonly<Record<string, OperatorImplementation<never, unknown>>>;
  /** Postgres schema the plugin owns; its migrations create their tables there. */
  readonly schema?: string;
  /** Numbered migrations (applied in name order, once each) for the plugin's own schema. */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /** HTTP routes, mounted under `/plugins/<name>/`. */
  readonly routes?: PluginRoutes;
  /** Checks reported by `/healthz` (name → check). */
  readonly healthChecks?: Readonly<Record<string, () => Promise<HealthCheckResult>>>;
}

/** Define a plugin; validates the shape so a broken plugin fails where it is declared. */
export function definePlugin<P extends TributaryPlugin>(plugin: P): P {
  if (!plugin || typeof plugin.name !== 'string' || !/^[a-z][a-z0-9_-]*$/.test(plugin.name)) {
    throw new TypeError(`definePlugin: name must be lower-case letters, digits, '_' or '-', got ${JSON.stringify(plugin?.name)}`);
  }
  if (typeof plugin.version !== 'string') throw new TypeError(`plugin '${plugin.name}': version must be a string`);
  for (const [key, value] of Object.entries(plugin.operators ?? {})) {
    if (typeof value !== 'function') throw new TypeError(`plugin '${plugin.name}': operator '${key}' must be a function`);
  }
  if (plugin.migrations && !plugin.schema) throw new TypeError(`plugin '${plugin.name}': migrations need a schema to run in`);
  return Object.freeze(plugin);
}
