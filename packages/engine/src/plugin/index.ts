export { ConfigFileError, parseConfigText, readConfigFile, type ConfigFileProblem, type ConfigSchema, type SchemaIssue } from './config-file.js';
export { PLUGIN_ROUTES_PREFIX, pluginRoutesHandler, runPluginHealthChecks, type HealthCheckOptions, type PluginHealth } from './http.js';
export { migratePlugin, PluginMigrationError } from './migrate.js';
export { defineOperator, OperatorArgsError, operatorFactory, parseOperatorArgs, type OperatorFactoryOptions } from './operator.js';
export {
  definePlugin,
  type ConnectionType,
  type HealthCheck,
  type HealthCheckResult,
  type OperatorDefinition,
  type OperatorImplementation,
  type PluginOperator,
  type PluginRoutes,
  type PluginRuntime,
  type PluginService,
  type PluginServiceRole,
  type RunningPluginService,
  type TributaryPlugin,
} from './plugin.js';
export { PluginServiceError, startPluginServices, type PluginServices, type StartedPluginService } from './services.js';
export { OperatorNotFoundError, PluginRegistry, type PluginRegistryOptions, type ResolvedOperator } from './registry.js';
