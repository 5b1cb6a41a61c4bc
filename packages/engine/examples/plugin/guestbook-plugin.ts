import { sql, type Generated } from 'kysely';
import { z } from 'zod';
import { defineOperator, definePlugin, operatorFactory } from '@tributary/engine';

/**
 * A minimal plugin (see docs/plugins.md): one operator that writes to a table the plugin owns, a config
 * file schema, a route and a health check. The example DAG `example_plugin` uses it.
 */

// Arguments of the `sign` operator: checked in the DAG file by the factory, and again on the worker.
const signArgs = z.object({ name: z.string().min(1), message: z.string().default('hello') }).strict();

/** Tables of the plugin's own schema, as kysely sees them. */
interface GuestbookTables {
  'guestbook.entry': { id: Generated<number>; name: string; message: string; dag_id: string; run_id: string };
}

/** The factory DAG files call: `pipeline.task('sign', sign({ name: 'Ada' }))`. */
export const sign = operatorFactory<z.input<typeof signArgs>, { id: number; entries: number }>({ operator: 'guestbook.sign', args: signArgs });

/** Schema of the plugin's config files, e.g. `guestbook.yaml`. */
export const guestbookConfig = z.object({ title: z.string(), maxEntries: z.number().int().positive() }).strict();

export default definePlugin({
  name: 'guestbook',
  version: '1.0.0',
  schema: 'guestbook',
  migrations: {
    '0001-entry': {
      up: async (db) => {
        await sql`CREATE TABLE guestbook.entry (id serial PRIMARY KEY, name text NOT NULL, message text NOT NULL,
          dag_id text NOT NULL, run_id text NOT NULL, signed_at timestamptz NOT NULL DEFAULT now())`.execute(db);
      },
    },
  },
  configSchema: guestbookConfig,
  operators: {
    sign: defineOperator({
      description: 'write a guestbook entry',
      args: signArgs,
      run: async ({ name, message }, { dagId, runId, log }, runtime) => {
        const db = runtime.database<GuestbookTables>();
        const row = await db.insertInto('guestbook.entry').values({ name, message, dag_id: dagId, run_id: runId }).returning('id').executeTakeFirstOrThrow();
        const { entries } = await db.selectFrom('guestbook.entry').select((eb) => eb.fn.countAll<number>().as('entries')).executeTakeFirstOrThrow();
        log.info({ id: row.id }, `${name} signed the guestbook`);
        return { id: row.id, entries: Number(entries) };
      },
    }),
  },
  // Served by the web server at /plugins/guestbook/…
  routes: (runtime) => ({
    async fetch(request) {
      if (new URL(request.url).pathname !== '/plugins/guestbook/entries') return new Response('not found', { status: 404 });
      const rows = await runtime.database<GuestbookTables>().selectFrom('guestbook.entry').select(['name', 'message']).orderBy('id').execute();
      return Response.json(rows);
    },
  }),
  healthChecks: {
    table: async (runtime) => {
      await runtime.database<GuestbookTables>().selectFrom('guestbook.entry').select('id').limit(1).execute();
      return { ok: true, detail: 'guestbook.entry is readable' };
    },
  },
});
