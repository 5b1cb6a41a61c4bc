import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { Logger } from 'pino';
import type { TaskContext } from '../dag/types.js';
import type { ConfigSchema } from './config-file.js';

/**
 * What an operator implementation gets besides its arguments and the task context: the metadata
 * database (where the plugin's own schema lives), the project directory and a logger.
 */
export interface PluginRuntime {
  /** The plugin this operator belongs to. */
  readonly plugin: TributaryPlugin;
  /** Directory of the project (relative paths in arguments are resolved against it). */
  readonly projectDir: string;
  /** The engine's logger, with `plugin` set. */
  readonly log: Logger;
  /**
   * The metadata database, typed as the plugin's tables (qualify them with the plugin's schema:
   * `db.selectFrom('discovery.prospect_queue')`). Throws when the registry has no database.
   */
  database<DB>(): Kysely<DB>;
}

/** The implementation of an operator, run by a worker with the task's arguments. */
export type OperatorImplementation<A = unknown, R = unknown> = (args: A, context: TaskContext, runtime: PluginRuntime) => R | Promise<R>;

/**
 * An operator implementation together with the schema of its arguments, built with
 * `defineOperator()`: the worker validates the arguments before calling `run`.
 */
export interface OperatorDefinition<A = unknown, R = unknown> {
  /** Checks the arguments the worker received (the DAG file's factory usually checked them already). */
  readonly args?: ConfigSchema<A>;
  /** One line shown in `tributary plugins list`. */
  readonly description?: string;
  readonly run: OperatorImplementation<A, R>;
}

/** Any operator a plugin can hold: a bare implementation or a definition with an argument schema. */
export type PluginOperator =
  | OperatorImplementation<never, unknown>
  | { readonly args?: ConfigSchema<unknown>; readonly description?: string; readonly run: OperatorImplementation<never, unknown> };

/** Outcome of a plugin health check. */
export interface HealthCheckResult {
  ok: boolean;
  /** What was checked or what is wrong, for operators. */
  detail?: string;
}

/** A health check: resolves with its result; a throw or a timeout counts as not ok. */
export type HealthCheck = (runtime: PluginRuntime) => Promise<HealthCheckResult> | HealthCheckResult;

/**
 * HTTP routes a plugin serves, mounted by the web server under `/plugins/<plugin name>/` (the
 * request's path keeps that prefix). A Hono app satisfies this (its `fetch`), as does any fetch-style
 * handler. A plugin gives its routes directly or as a function of its runtime (to reach the database).
 */
export interface PluginRoutes {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * A kind of connection a plugin's operators use (an API with a key, a database, an SMTP server): its
 * fields' schema and which of them are secrets (masked in the UI, encrypted at rest).
 */
export interface ConnectionType {
  /** One line for people choosing a type. */
  readonly description: string;
  /** Schema of the connection's fields. */
  readonly fields: ConfigSchema<unknown>;
  /** Field names holding secrets. */
  readonly secretFields?: readonly string[];
}

/** The long-running commands that start plugin services: `tributary standalone`, `scheduler`, `worker`, `webserver`. */
export type PluginServiceRole = 'standalone' | 'scheduler' | 'worker' | 'webserver';

/** A plugin service once started: where it can be reached, and how to stop it. */
export interface RunningPluginService {
  /** Address it listens on, if any (logged when it starts). */
  readonly url?: string;
  /** Stop it: close its sockets, timers and children. Called once, when the command shuts down. */
  stop(): Promise<void> | void;
}

/**
 * A background service a plugin runs beside the engine's roles, in the same process: a local server
 * a demo scrapes, a poller, a webhook relay. The long-running commands whose role is listed start it
 * (after the engine opened and the plugin was migrated) and stop it when they shut down, after their
 * workers have stopped. A service that fails to start stops the command with an error naming it.
 */
export interface PluginService {
  /** One line shown in the command's log. */
  readonly description?: string;
  /**
   * The commands that run it. A service meant to exist once per deployment should not list `worker`
   * (a deployment runs many workers).
   * @defaultValue ['standalone']
   */
  readonly roles?: readonly PluginServiceRole[];
  /** Start the service; resolve once it is ready to use. */
  start(runtime: PluginRuntime): Promise<RunningPluginService> | RunningPluginService;
}

/**
 * A plugin: a named, versioned set of operators, and optionally the tables, config files, connection
 * types, routes, health checks and background services that go with them. Export one as the default export of a package
 * built with {@link definePlugin}.
 */
export interface TributaryPlugin {
  /** Short name; operators are addressed as `<name>.<operator>`. */
  readonly name: string;
  readonly version: string;
  /** npm package that exports this plugin (what operator specs name so workers can import it). */
  readonly package?: string;
  /** Operator implementations by short name: a function, or a `defineOperator()` definition. */
  readonly operators: Readonly<Record<string, PluginOperator>>;
  /** Postgres schema the plugin owns; its migrations create their tables there. */
  readonly schema?: string;
  /**
   * Migrations of the plugin's schema, applied in name order, each once (tracked in
   * `<schema>.migration`), when an engine starts with the plugin or a worker first loads it.
   */
  readonly migrations?: Readonly<Record<string, Migration>>;
  /**
   * Schema of the plugin's config files (e.g. one county's scraping rules), validated by
   * `readConfigFile()` and `tributary plugins check-config`.
   */
  readonly configSchema?: ConfigSchema<unknown>;
  /** Connection types by short name (`<plugin>.<type>`). */
  readonly connectionTypes?: Readonly<Record<string, ConnectionType>>;
  /** HTTP routes, mounted under `/plugins/<name>/`: a handler, or a function building one from the runtime (called once). */
  readonly routes?: PluginRoutes | ((runtime: PluginRuntime) => PluginRoutes);
  /** Checks reported by `/healthz` and `tributary plugins list` (name → check). */
  readonly healthChecks?: Readonly<Record<string, HealthCheck>>;
  /** Background services by name, started by the long-running commands of their roles (see {@link PluginService}). */
  readonly services?: Readonly<Record<string, PluginService>>;
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const SCHEMA = /^[a-z_][a-z0-9_]*$/;
const SERVICE_ROLES: readonly PluginServiceRole[] = ['standalone', 'scheduler', 'worker', 'webserver'];

function isDefinition(value: unknown): value is OperatorDefinition {
  return typeof value === 'object' && value !== null && typeof (value as OperatorDefinition).run === 'function';
}

/** The function that runs an operator, whichever form the plugin gave it in. */
export function operatorRunner(operator: PluginOperator): OperatorDefinition<unknown, unknown> {
  return (isDefinition(operator) ? operator : { run: operator }) as OperatorDefinition<unknown, unknown>;
}

/**
 * Define a plugin; validates the shape so a broken plugin fails where it is declared.
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'hello',
 *   version: '1.0.0',
 *   package: '@acme/tributary-hello',
 *   operators: { greet: defineOperator({ args: z.object({ name: z.string() }), run: ({ name }) => `hello ${name}` }) },
 * });
 * ```
 */
export function definePlugin(plugin: TributaryPlugin): TributaryPlugin {
  if (!plugin || typeof plugin.name !== 'string' || !NAME.test(plugin.name)) {
    throw new TypeError(`definePlugin: name must be lower-case letters, digits, '_' or '-', got ${JSON.stringify(plugin?.name)}`);
  }
  const where = `plugin '${plugin.name}'`;
  if (typeof plugin.version !== 'string') throw new TypeError(`${where}: version must be a string`);
  for (const [key, value] of Object.entries(plugin.operators ?? {})) {
    if (typeof value !== 'function' && !isDefinition(value)) {
      throw new TypeError(`${where}: operator '${key}' must be a function or a defineOperator() definition`);
    }
  }
  if (plugin.schema !== undefined && !SCHEMA.test(plugin.schema)) {
    throw new TypeError(`${where}: schema must be a lower-case SQL identifier, got ${JSON.stringify(plugin.schema)}`);
  }
  if (plugin.schema === 'tributary' || plugin.schema === 'tributary_queue' || plugin.schema === 'public') {
    throw new TypeError(`${where}: schema '${plugin.schema}' is not the plugin's own; choose one named after the plugin`);
  }
  if (plugin.migrations && !plugin.schema) throw new TypeError(`${where}: migrations need a schema to run in`);
  for (const [key, migration] of Object.entries(plugin.migrations ?? {})) {
    if (typeof migration?.up !== 'function') throw new TypeError(`${where}: migration '${key}' must have an up() function`);
  }
  if (plugin.routes !== undefined && typeof plugin.routes !== 'function' && typeof plugin.routes.fetch !== 'function') {
    throw new TypeError(`${where}: routes must have a fetch(request) method, or be a function returning such routes`);
  }
  for (const [key, check] of Object.entries(plugin.healthChecks ?? {})) {
    if (typeof check !== 'function') throw new TypeError(`${where}: health check '${key}' must be a function`);
  }
  for (const [key, service] of Object.entries(plugin.services ?? {})) {
    if (typeof service?.start !== 'function') throw new TypeError(`${where}: service '${key}' must have a start(runtime) function`);
    const unknown = (service.roles ?? []).filter((role) => !SERVICE_ROLES.includes(role));
    if (unknown.length > 0) throw new TypeError(`${where}: service '${key}': unknown role ${unknown.map((r) => `'${r}'`).join(', ')} (expected ${SERVICE_ROLES.join(', ')})`);
  }
  if (plugin.configSchema !== undefined && typeof plugin.configSchema.safeParse !== 'function') {
    throw new TypeError(`${where}: configSchema must have safeParse() (a zod schema)`);
  }
  for (const [key, type] of Object.entries(plugin.connectionTypes ?? {})) {
    if (typeof type?.fields?.safeParse !== 'function') throw new TypeError(`${where}: connection type '${key}' needs a fields schema with safeParse()`);
  }
  return Object.freeze(plugin);
}
