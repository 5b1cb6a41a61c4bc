import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePlugin, type PluginService } from '../src/plugin/plugin.js';
import { PluginServiceError } from '../src/plugin/services.js';
import { setupEngine, type TestSetup } from './helpers.js';

/** A service serving the rows of its plugin's table over HTTP, recording its lifecycle in `events`. */
function tableServer(events: string[]): PluginService {
  return {
    description: 'serves notes.entry',
    start: async (runtime) => {
      const server: Server = createServer((_request, response) => {
        void sql<{ text: string }>`SELECT text FROM notes.entry ORDER BY text`.execute(runtime.database()).then((rows) => {
          response.end(JSON.stringify(rows.rows.map((r) => r.text)));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      events.push('started');
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        stop: () =>
          new Promise<void>((resolve) => {
            events.push('stopped');
            server.close(() => resolve());
          }),
      };
    },
  };
}

describe('plugin services', () => {
  let setup: TestSetup;
  let events: string[];
  beforeEach(async () => {
    events = [];
    const notes = definePlugin({
      name: 'notes',
      version: '1.0.0',
      operators: {},
      schema: 'notes',
      migrations: { '0001': { up: async (db) => void (await sql`CREATE TABLE notes.entry (text text); INSERT INTO notes.entry VALUES ('migrated first')`.execute(db)) } },
      services: {
        site: tableServer(events),
        poller: { roles: ['worker'], start: () => (events.push('poller'), { stop: () => void events.push('poller stopped') }) },
      },
    });
    setup = await setupEngine({ plugins: [notes] });
  });
  afterEach(() => setup?.close());

  it('starts the services of a role after migrating their plugin, and stops them when the engine closes', async () => {
    const started = await setup.engine.startPluginServices('standalone');
    expect(started).toEqual([{ name: 'notes.site', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) }]);
    expect(events).toEqual(['started']);
    expect(await (await fetch(started[0]!.url!)).json()).toEqual(['migrated first']);
    await setup.engine.close();
    expect(events).toEqual(['started', 'stopped']);
    await expect(fetch(started[0]!.url!)).rejects.toThrow();
  });

  it('starts only the services listing the role', async () => {
    expect((await setup.engine.startPluginServices('worker')).map((s) => s.name)).toEqual(['notes.poller']);
    expect((await setup.engine.startPluginServices('scheduler')).map((s) => s.name)).toEqual([]);
    expect(events).toEqual(['poller']);
  });

  it('names a service that fails to start and stops those already started', async () => {
    setup.engine.plugins.register(
      definePlugin({ name: 'broken', version: '1', operators: {}, services: { listener: { start: () => Promise.reject(new Error('listen EADDRINUSE 127.0.0.1:4380')) } } }),
    );
    const error = await setup.engine.startPluginServices('standalone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginServiceError);
    expect((error as Error).message).toBe("plugin service 'broken.listener' failed to start: listen EADDRINUSE 127.0.0.1:4380");
    expect(events).toEqual(['started', 'stopped']);
  });

  it('rejects a service without start() or with an unknown role where the plugin is defined', () => {
    expect(() => definePlugin({ name: 'bad', version: '1', operators: {}, services: { x: {} as PluginService } })).toThrow("plugin 'bad': service 'x' must have a start(runtime) function");
    expect(() => definePlugin({ name: 'bad', version: '1', operators: {}, services: { x: { roles: ['cron' as 'worker'], start: () => ({ stop() {} }) } } })).toThrow(
      "plugin 'bad': service 'x': unknown role 'cron' (expected standalone, scheduler, worker, webserver)",
    );
  });
});
