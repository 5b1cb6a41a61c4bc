export { definePlugin, type OperatorImplementation, type TributaryPlugin } from './plugin.js';
export { OperatorNotFoundError, PluginRegistry } from './registry.js';
