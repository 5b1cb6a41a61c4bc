import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TributaryError } from '../errors.js';
import type { OperatorImplementation, TributaryPlugin } from './plugin.js';

/** An operator could not be found or loaded. */
export class OperatorNotFoundError extends TributaryError {
  constructor(operator: string, reason: string) {
    super('OPERATOR_NOT_FOUND', `operator '${operator}': ${reason}`);
  }
}

/**
 * Finds operator implementations by name: from plugins registered up front, or by importing the
 * plugin package named in the task spec (resolved from the project directory).
 */
export class PluginRegistry {
  readonly #plugins = new Map<string, TributaryPlugin>();
  readonly #loading = new Map<string, Promise<TributaryPlugin>>();
  readonly #projectDir: string;

  constructor(projectDir: string, plugins: readonly TributaryPlugin[] = []) {
    this.#projectDir = projectDir;
    for (const plugin of plugins) this.register(plugin);
  }

  /** Make a plugin's operators available. */
  register(plugin: TributaryPlugin): void {
    this.#plugins.set(plugin.name, plugin);
  }

  /** Registered plugins. */
  get plugins(): readonly TributaryPlugin[] {
    return [...this.#plugins.values()];
  }

  /** The implementation of `operator` (`<plugin>.<name>`), importing `pluginPackage` if needed. */
  async resolve(operator: string, pluginPackage: string | null): Promise<OperatorImplementation<unknown, unknown>> {
    const dot = operator.lastIndexOf('.');
    if (dot <= 0) throw new OperatorNotFoundError(operator, "expected '<plugin>.<operator>'");
    const pluginName = operator.slice(0, dot);
    const name = operator.slice(dot + 1);
    let plugin = this.#plugins.get(pluginName);
    if (!plugin && pluginPackage) plugin = await this.#load(pluginPackage);
    if (!plugin || plugin.name !== pluginName) {
      throw new OperatorNotFoundError(operator, `plugin '${pluginName}' is not installed${pluginPackage ? ` (package ${pluginPackage})` : ''}`);
    }
    const implementation = plugin.operators[name];
    if (!implementation) {
      throw new OperatorNotFoundError(operator, `plugin '${pluginName}' has no operator '${name}' (it has: ${Object.keys(plugin.operators).join(', ') || 'none'})`);
    }
    return implementation as OperatorImplementation<unknown, unknown>;
  }

  #load(pluginPackage: string): Promise<TributaryPlugin> {
    let loading = this.#loading.get(pluginPackage);
    if (!loading) {
      loading = (async () => {
        let path: string;
        try {
          path = createRequire(join(this.#projectDir, 'package.json')).resolve(pluginPackage);
        } catch (error) {
          throw new OperatorNotFoundError(pluginPackage, `package cannot be found from ${this.#projectDir}`, );
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
