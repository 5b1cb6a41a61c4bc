import { toError } from '../errors.js';
import type { HealthCheckResult } from './plugin.js';
import type { PluginRegistry } from './registry.js';

/** Path prefix under which plugin routes are mounted: `/plugins/<plugin name>/…`. */
export const PLUGIN_ROUTES_PREFIX = '/plugins';

/**
 * A fetch-style handler serving every registered plugin's routes under `/plugins/<name>/`: mount it
 * on the web server (with Hono: `app.all('/plugins/*', (c) => handler(c.req.raw))`). Requests for a
 * plugin without routes get 404; a route that throws gets 500 with the plugin named in the body.
 */
export function pluginRoutesHandler(registry: PluginRegistry): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    const match = /^\/plugins\/([a-z][a-z0-9_-]*)(\/.*)?$/.exec(path);
    const plugin = match ? registry.get(match[1]!) : undefined;
    if (!plugin?.routes) {
      return Response.json({ error: `no plugin routes at ${path}`, plugins: registry.plugins.filter((p) => p.routes).map((p) => `${PLUGIN_ROUTES_PREFIX}/${p.name}/`) }, { status: 404 });
    }
    try {
      return await registry.routes(plugin.name)!.fetch(request);
    } catch (error) {
      return Response.json({ error: `plugin '${plugin.name}': ${toError(error).message}` }, { status: 500 });
    }
  };
}

/** One health check's outcome, as reported by `/healthz`. */
export interface PluginHealth extends HealthCheckResult {
  /** `<plugin>.<check>` */
  readonly check: string;
  readonly durationMs: number;
}

/** Options of {@link runPluginHealthChecks}. */
export interface HealthCheckOptions {
  /**
   * A check still running after this long counts as failed.
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

/** Run every registered plugin's health checks at once; a throw or a timeout is a failed check. */
export async function runPluginHealthChecks(registry: PluginRegistry, options: HealthCheckOptions = {}): Promise<PluginHealth[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const checks = registry.plugins.flatMap((plugin) => Object.entries(plugin.healthChecks ?? {}).map(([name, check]) => ({ plugin, name, check })));
  return Promise.all(
    checks.map(async ({ plugin, name, check }): Promise<PluginHealth> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<HealthCheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      let result: HealthCheckResult;
      try {
        result = await Promise.race([Promise.resolve(check(registry.runtime(plugin))), timeout]);
      } catch (error) {
        result = { ok: false, detail: toError(error).message };
      } finally {
        clearTimeout(timer);
      }
      return { check: `${plugin.name}.${name}`, ...result, durationMs: Math.round(performance.now() - started) };
    }),
  );
}
