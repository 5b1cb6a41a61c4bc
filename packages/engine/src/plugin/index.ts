export { definePlugin, type HealthCheckResult, type OperatorImplementation, type PluginRoutes, type TributaryPlugin } from './plugin.js';
export { OperatorNotFoundError, PluginRegistry } from './registry.js';
