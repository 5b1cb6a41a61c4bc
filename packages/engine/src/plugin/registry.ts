import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import type { TaskContext } from '../dag/types.js';
import type { DatabaseHandle } from '../db/connect.js';
import { TributaryError } from '../errors.js';
import { migratePlugin } from './migrate.js';
import { parseOperatorArgs } from './operator.js';
import { operatorRunner, type PluginRoutes, type PluginRuntime, type TributaryPlugin } from './plugin.js';

/** An operator could not be found or loaded. */
export class OperatorNotFoundError extends TributaryError {
  constructor(operator: string, reason: string) {
    super('OPERATOR_NOT_FOUND', `operator '${operator}': ${reason}`);
  }
}

/** An operator resolved for a task: its implementation with the plugin's runtime bound. */
export type ResolvedOperator = (args: unknown, context: TaskContext) => unknown;

/** Options of a {@link PluginRegistry}. */
export interface PluginRegistryOptions {
  /** The metadata database: plugins are migrated in it before first use and their operators get it. */
  database?: Pick<DatabaseHandle, 'pool' | 'db'>;
  /** Logger handed to plugins (with `plugin` set). @defaultValue silent */
  log?: Logger;
}

/**
 * Finds operator implementations by name: from plugins registered up front, or by importing the
 * plugin package named in the task spec (resolved from the project directory). Before a plugin's
 * first operator runs, its migrations are applied (once per registry).
 */
export class PluginRegistry {
  readonly #plugins = new Map<string, TributaryPlugin>();
  readonly #loading = new Map<string, Promise<TributaryPlugin>>();
  readonly #ready = new Map<string, Promise<string[]>>();
  readonly #routes = new Map<string, PluginRoutes>();
  readonly #projectDir: string;
  readonly #database: PluginRegistryOptions['database'];
  readonly #log: Logger;

  constructor(projectDir: string, plugins: readonly TributaryPlugin[] = [], options: PluginRegistryOptions = {}) {
    this.#projectDir = projectDir;
    this.#database = options.database;
    this.#log = options.log ?? pino({ level: 'silent' });
    for (const plugin of plugins) this.register(plugin);
  }

  /** Make a plugin's operators, routes and health checks available. A second plugin with the same name replaces the first. */
  register(plugin: TributaryPlugin): void {
    this.#plugins.set(plugin.name, plugin);
    this.#routes.delete(plugin.name);
  }

  /** Registered plugins. */
  get plugins(): readonly TributaryPlugin[] {
    return [...this.#plugins.values()];
  }

  /** The registered plugin called `name`, if any. */
  get(name: string): TributaryPlugin | undefined {
    return this.#plugins.get(name);
  }

  /**
   * Prepare a registered plugin for use: apply its migrations (once per registry; later calls return
   * the same result). Resolves with the migrations applied by this call's first run.
   */
  ready(plugin: TributaryPlugin): Promise<string[]> {
    let ready = this.#ready.get(plugin.name);
    if (!ready) {
      const database = this.#database;
      ready = database && plugin.migrations ? migratePlugin(database, plugin) : Promise.resolve([]);
      ready.then(
        (applied) => applied.length > 0 && this.#log.info({ plugin: plugin.name, applied }, 'plugin migrated'),
        () => this.#ready.delete(plugin.name),
      );
      this.#ready.set(plugin.name, ready);
    }
    return ready;
  }

  /** Prepare every registered plugin (see {@link PluginRegistry.ready}); resolves with the migrations applied, by plugin. */
  async readyAll(): Promise<Record<string, string[]>> {
    const applied: Record<string, string[]> = {};
    for (const plugin of this.plugins) applied[plugin.name] = await this.ready(plugin);
    return applied;
  }

  /** The routes of a registered plugin (built from its runtime on first use), or undefined when it has none. */
  routes(name: string): PluginRoutes | undefined {
    const plugin = this.#plugins.get(name);
    if (!plugin?.routes) return undefined;
    let routes = this.#routes.get(name);
    if (!routes) {
      routes = typeof plugin.routes === 'function' ? plugin.routes(this.runtime(plugin)) : plugin.routes;
      this.#routes.set(name, routes);
    }
    return routes;
  }

  /** What an operator or health check of `plugin` gets besides its arguments. */
  runtime(plugin: TributaryPlugin): PluginRuntime {
    const database = this.#database;
    return {
      plugin,
      projectDir: this.#projectDir,
      log: this.#log.child({ plugin: plugin.name }),
      database<DB>(): Kysely<DB> {
        if (!database) throw new TributaryError('PLUGIN_NO_DATABASE', `plugin '${plugin.name}' needs the metadata database; run it through an engine (Tributary.open)`);
        return database.db as unknown as Kysely<DB>;
      },
    };
  }

  /**
   * The implementation of `operator` (`<plugin>.<name>`), importing `pluginPackage` if needed, with
   * its plugin migrated and its arguments validated when it declares a schema.
   */
  async resolve(operator: string, pluginPackage: string | null): Promise<ResolvedOperator> {
    const dot = operator.lastIndexOf('.');
    if (dot <= 0) throw new OperatorNotFoundError(operator, "expected '<plugin>.<operator>'");
    const pluginName = operator.slice(0, dot);
    const name = operator.slice(dot + 1);
    let plugin = this.#plugins.get(pluginName);
    if (!plugin && pluginPackage) plugin = await this.load(pluginPackage);
    if (!plugin || plugin.name !== pluginName) {
      throw new OperatorNotFoundError(operator, `plugin '${pluginName}' is not installed${pluginPackage ? ` (package ${pluginPackage})` : ''}`);
    }
    const found = plugin.operators[name];
    if (!found) {
      throw new OperatorNotFoundError(operator, `plugin '${pluginName}' has no operator '${name}' (it has: ${Object.keys(plugin.operators).join(', ') || 'none'})`);
    }
    await this.ready(plugin);
    const { args: schema, run } = operatorRunner(found);
    const runtime = this.runtime(plugin);
    return (args, context) => run(parseOperatorArgs(name, schema, args), context, runtime);
  }

  /**
   * Import the plugin exported by `pluginPackage` — an npm package resolved from the project directory,
   * or a path relative to it (`./plugins/hello.ts`) — and register it.
   */
  load(pluginPackage: string): Promise<TributaryPlugin> {
    let loading = this.#loading.get(pluginPackage);
    if (!loading) {
      loading = (async () => {
        let path: string;
        try {
          path = createRequire(join(this.#projectDir, 'package.json')).resolve(pluginPackage);
        } catch {
          throw new OperatorNotFoundError(pluginPackage, `package cannot be found from ${this.#projectDir} (add it to the project's dependencies)`);
        }
        const module = (await import(pathToFileURL(path).href)) as { default?: TributaryPlugin; plugin?: TributaryPlugin };
        const plugin = module.default ?? module.plugin;
        if (!plugin?.operators) throw new OperatorNotFoundError(pluginPackage, 'package does not export a plugin (default export of definePlugin())');
        this.register(plugin);
        return plugin;
      })();
      loading.catch(() => this.#loading.delete(pluginPackage));
      this.#loading.set(pluginPackage, loading);
    }
    return loading;
  }
}
