import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, resolveEngineConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('resolveEngineConfig', () => {
  it('applies the documented defaults', () => {
    const config = resolveEngineConfig({ projectDir: '/srv/app' }, {});
    expect(config).toMatchObject({
      databaseUrl: null,
      projectDir: '/srv/app',
      dagsFolders: ['/srv/app/dags'],
      dataDir: '/srv/app/.tributary',
      heartbeatIntervalMs: DEFAULT_ENGINE_CONFIG.heartbeatIntervalMs,
      heartbeatTimeoutMs: DEFAULT_ENGINE_CONFIG.heartbeatTimeoutMs,
      xcomMaxBytes: 1_048_576,
      xcomOffload: null,
      logLevel: 'info',
    });
    expect(config.worker).toEqual({ queues: ['default'], concurrency: 16, shutdownGraceMs: 30_000 });
    expect(config.heartbeatTimeoutMs).toBeLessThanOrEqual(30_000);
  });

  it('reads the environment, and options win over it', () => {
    const env = {
      DATABASE_URL: 'postgres://u@h/db',
      TRIBUTARY_DAGS_FOLDER: 'a:/abs/b',
      TRIBUTARY_WORKER_CONCURRENCY: '4',
      TRIBUTARY_LOG_LEVEL: 'debug',
    };
    const fromEnv = resolveEngineConfig({ projectDir: '/p' }, env);
    expect(fromEnv).toMatchObject({ databaseUrl: 'postgres://u@h/db', dagsFolders: ['/p/a', '/abs/b'], logLevel: 'debug' });
    expect(fromEnv.worker.concurrency).toBe(4);
    const overridden = resolveEngineConfig({ projectDir: '/p', databaseUrl: null, worker: { concurrency: 2 } }, env);
    expect(overridden.databaseUrl).toBeNull();
    expect(overridden.worker.concurrency).toBe(2);
  });

  it.each([
    [{ databaseUrl: 'mysql://x' }, "config 'databaseUrl': expected a postgres:// or postgresql:// connection string"],
    [{ worker: { concurrency: 0 } }, "config 'worker.concurrency'"],
    [{ worker: { concurency: 2 } }, "config 'worker'"],
    [{ heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 15_000 }, "config 'heartbeatTimeoutMs': must be more than twice heartbeatIntervalMs"],
    [{ logLevel: 'loud' }, "config 'logLevel'"],
    [{ plugins: ['@tributary/plugins-discovery', 42] }, "config 'plugins.1': expected an npm package name or a plugin object (definePlugin())"],
    [{ xcomOffload: { thresholdBytes: 2_000_000 } }, "config 'xcomOffload.thresholdBytes': must be at most xcomMaxBytes (1048576), got 2000000"],
    [{ xcomOffload: { thresholdBytes: 1000, maxBytes: 10 } }, "config 'xcomOffload.maxBytes': must be at least thresholdBytes (1000), got 10"],
    [{ xcomOffload: { bucket: '../up' } }, "config 'xcomOffload.bucket': expected 1-63 letters"],
    [{ xcomOffload: { treshold: 1 } }, "config 'xcomOffload'"],
    [
      { xcomOffload: {}, objectStore: { stat: async () => null, list: async () => [], put: async () => ({}) } },
      "config 'xcomOffload': needs an object store with get() and put()",
    ],
  ])('names the bad field: %j', (options, message) => {
    expect(() => resolveEngineConfig(options as never, {})).toThrow(ConfigError);
    expect(() => resolveEngineConfig(options as never, {})).toThrow(message);
  });

  it('turns XCom offload on with `{}`: the threshold is xcomMaxBytes, the cap 256 MiB, the bucket tributary', () => {
    expect(resolveEngineConfig({ xcomOffload: {} }, {}).xcomOffload).toEqual({ thresholdBytes: 1_048_576, maxBytes: 268_435_456, bucket: 'tributary' });
    expect(resolveEngineConfig({ xcomMaxBytes: 2048, xcomOffload: { thresholdBytes: 1024, bucket: 'results' } }, {}).xcomOffload).toEqual({
      thresholdBytes: 1024,
      maxBytes: 268_435_456,
      bucket: 'results',
    });
  });

  it('names a bad environment variable', () => {
    expect(() => resolveEngineConfig({}, { TRIBUTARY_WORKER_CONCURRENCY: 'lots' })).toThrow(
      "config 'TRIBUTARY_WORKER_CONCURRENCY': expected a positive integer, got 'lots'",
    );
  });
});
