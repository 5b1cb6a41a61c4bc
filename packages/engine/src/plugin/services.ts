import type { Logger } from 'pino';
import { toError, TributaryError } from '../errors.js';
import type { PluginServiceRole, RunningPluginService } from './plugin.js';
import type { PluginRegistry } from './registry.js';

/** A plugin service could not start; the services started before it have been stopped again. */
export class PluginServiceError extends TributaryError {
  /** `<plugin>.<service>` */
  readonly service: string;

  constructor(service: string, options: { cause?: unknown } = {}) {
    super('PLUGIN_SERVICE_FAILED', `plugin service '${service}' failed to start: ${toError(options.cause).message}`, options);
    this.service = service;
  }
}

/** One started plugin service. */
export interface StartedPluginService {
  /** `<plugin>.<service>` */
  readonly name: string;
  readonly url: string | undefined;
}

/** The plugin services one command started: what they are, and how to stop them all. */
export interface PluginServices {
  readonly started: readonly StartedPluginService[];
  /** Stop every service, last started first; a service that fails to stop is logged, not thrown. */
  stop(): Promise<void>;
}

/**
 * Start the services of every registered plugin that run in `role` (see `PluginService.roles`), one
 * after the other, each plugin migrated first. If one fails, those already started are stopped and
 * {@link PluginServiceError} names the one that failed.
 */
export async function startPluginServices(registry: PluginRegistry, role: PluginServiceRole, log: Logger): Promise<PluginServices> {
  const running: { name: string; service: RunningPluginService }[] = [];
  const stop = async (): Promise<void> => {
    for (const { name, service } of running.splice(0).reverse()) {
      try {
        await service.stop();
        log.debug({ service: name }, 'plugin service stopped');
      } catch (error) {
        log.warn({ service: name, err: toError(error) }, 'plugin service failed to stop');
      }
    }
  };
  for (const plugin of registry.plugins) {
    for (const [key, service] of Object.entries(plugin.services ?? {})) {
      if (!(service.roles ?? ['standalone']).includes(role)) continue;
      const name = `${plugin.name}.${key}`;
      try {
        await registry.ready(plugin);
        const started = await service.start(registry.runtime(plugin));
        running.push({ name, service: started });
        log.info({ service: name, url: started.url }, `plugin service ${name} started${started.url ? ` at ${started.url}` : ''}${service.description ? `: ${service.description}` : ''}`);
      } catch (error) {
        await stop();
        throw new PluginServiceError(name, { cause: error });
      }
    }
  }
  const started = running.map(({ name, service }) => ({ name, url: service.url }));
  return { started, stop };
}
