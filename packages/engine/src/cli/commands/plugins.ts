import type { Command } from 'commander';
import { ConfigFileError, readConfigFile } from '../../plugin/config-file.js';
import { runPluginHealthChecks } from '../../plugin/http.js';
import { operatorRunner, type TributaryPlugin } from '../../plugin/plugin.js';
import { PluginRegistry } from '../../plugin/registry.js';
import { withEngine } from '../context.js';
import { readProjectConfig } from '../project-config.js';
import { table, UsageError } from '../output.js';

/** The plugin named `nameOrPackage`: a configured plugin's name, or an npm package exporting one. */
async function findPlugin(nameOrPackage: string): Promise<TributaryPlugin> {
  const projectDir = process.cwd();
  const registry = new PluginRegistry(projectDir);
  const configured = readProjectConfig(projectDir).plugins ?? [];
  for (const entry of configured) {
    const plugin = typeof entry === 'string' ? await registry.load(entry) : entry;
    if (plugin.name === nameOrPackage || plugin.package === nameOrPackage) return plugin;
  }
  try {
    return await registry.load(nameOrPackage);
  } catch {
    const names = configured.map((p) => (typeof p === 'string' ? p : p.name));
    throw new UsageError(`plugin '${nameOrPackage}': not configured in tributary.config.json (${names.join(', ') || 'none'}) and not an installed package`);
  }
}

/** `tributary plugins list|check-config` */
export function registerPluginCommands(program: Command): void {
  const plugins = program.command('plugins').description('installed plugins: operators, migrations, health, config files');

  plugins
    .command('list')
    .description('load the configured plugins (applying their migrations), run their health checks and list them')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const health = await runPluginHealthChecks(engine.plugins);
        const list = engine.plugins.plugins.map((p) => ({
          name: p.name,
          version: p.version,
          package: p.package ?? null,
          schema: p.schema ?? null,
          operators: Object.entries(p.operators).map(([name, op]) => ({ name: `${p.name}.${name}`, description: operatorRunner(op).description ?? null })),
          connectionTypes: Object.keys(p.connectionTypes ?? {}).map((t) => `${p.name}.${t}`),
          routes: p.routes ? `/plugins/${p.name}/` : null,
          services: Object.entries(p.services ?? {}).map(([name, s]) => ({ name: `${p.name}.${name}`, roles: s.roles ?? ['standalone'], description: s.description ?? null })),
          health: health.filter((h) => h.check.startsWith(`${p.name}.`)),
        }));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['plugin', 'version', 'package', 'schema', 'operators', 'health'],
            list.map((p) => [
              p.name,
              p.version,
              p.package ?? '-',
              p.schema ?? '-',
              p.operators.map((o) => o.name).join(', '),
              p.health.map((h) => `${h.check}: ${h.ok ? 'ok' : `FAILED (${h.detail ?? ''})`}`).join('; ') || '-',
            ]),
          )}\n`,
        );
        if (health.some((h) => !h.ok)) process.exitCode = 1;
      });
    });

  plugins
    .command('check-config <plugin> <files...>')
    .description("validate config files against a plugin's config schema; prints every problem with file:line:column")
    .action(async (name: string, files: string[]) => {
      const plugin = await findPlugin(name);
      if (!plugin.configSchema) throw new UsageError(`plugin '${plugin.name}' declares no config schema`);
      let failed = 0;
      for (const file of files) {
        try {
          await readConfigFile(file, plugin.configSchema);
          process.stdout.write(`ok      ${file}\n`);
        } catch (error) {
          if (!(error instanceof ConfigFileError)) throw error;
          failed += 1;
          process.stdout.write(`invalid ${error.message}\n`);
        }
      }
      if (failed > 0) process.exitCode = 1;
    });
}
