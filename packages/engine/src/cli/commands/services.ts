import type { Command } from 'commander';
import { Tributary } from '../../engine.js';
import { AlreadyExistsError } from '../../errors.js';
import type { PluginServiceRole } from '../../plugin/plugin.js';
import { generatePassword } from '../../service/passwords.js';
import { countUsers, createUser } from '../../service/users.js';
import { createWebApp } from '../../web/app.js';
import { DEFAULT_WEB_PORT, serveWeb, type WebServer } from '../../web/server.js';
import { engineOptions, untilSignal, withEngine } from '../context.js';
import { UsageError } from '../output.js';

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option}: expected a positive integer, got '${value}'`);
  return n;
}

function port(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WEB_PORT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: expected a port number 0-65535, got '${value}'`);
  return n;
}

interface WebCommandOptions {
  port?: string;
  host: string;
  secureCookies?: boolean;
}

function addWebOptions(command: Command): Command {
  return command
    .option('--port <n>', `port of the web monitor and REST API (default ${DEFAULT_WEB_PORT})`)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--secure-cookies', 'mark cookies Secure (when served over HTTPS)');
}

async function startWeb(engine: Tributary, options: WebCommandOptions): Promise<WebServer> {
  const app = createWebApp(engine, { secureCookies: Boolean(options.secureCookies) });
  const server = await serveWeb(app, { port: port(options.port), hostname: options.host });
  engine.log.info({ url: server.url }, `web monitor at ${server.url}`);
  return server;
}

/** Start the plugin services of `role`; when one fails, close the engine (and its embedded database) before reporting it. */
async function startServices(engine: Tributary, role: PluginServiceRole): Promise<void> {
  try {
    await engine.startPluginServices(role);
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
}

/** Standalone's first start: create `admin` with a generated password and print it once. */
async function ensureFirstAdmin(engine: Tributary): Promise<void> {
  if ((await countUsers(engine.db)) > 0) return;
  const password = generatePassword();
  try {
    await createUser(engine.db, { username: 'admin', role: 'admin', password }, { name: 'standalone', origin: 'cli' });
  } catch (error) {
    if (error instanceof AlreadyExistsError) return; // another process created it first
    throw error;
  }
  process.stdout.write(
    `\nNo users existed, so an admin was created. Sign in to the web monitor with:\n  username: admin\n  password: ${password}\n` +
      `(shown once; change it with 'tributary users set-password admin')\n\n`,
  );
}

/** `tributary standalone|scheduler|worker|db` */
export function registerServiceCommands(program: Command): void {
  addWebOptions(
    program
      .command('standalone')
      .description('everything in one process: migrate, load and watch DAGs, scheduler, a worker and the web monitor')
      .option('--concurrency <n>', 'tasks the worker runs at once'),
  ).action(async (options: { concurrency?: string } & WebCommandOptions, command: Command) => {
    const concurrency = options.concurrency ? positiveInt(options.concurrency, '--concurrency') : undefined;
    port(options.port);
    const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
    // Plugin services first: a task the scheduler starts at once may need them (a local site to scrape).
    await startServices(engine, 'standalone');
    const parsed = await engine.parseDags();
    engine.processor.watch();
    engine.startScheduler();
    await engine.startWorker(concurrency ? { concurrency } : {});
    await ensureFirstAdmin(engine);
    const server = await startWeb(engine, options);
    engine.log.info(
      { dags: parsed.dags, importErrors: parsed.importErrors, folders: engine.config.dagsFolders, database: engine.config.databaseUrl ? 'DATABASE_URL' : 'embedded', url: server.url },
      'Tributary standalone is running (Ctrl-C to stop)',
    );
    await untilSignal(engine, () => server.close());
  });

  addWebOptions(program.command('webserver').description('serve the web monitor and REST API')).action(
    async (options: WebCommandOptions, command: Command) => {
      port(options.port);
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
      await startServices(engine, 'webserver');
      const server = await startWeb(engine, options);
      await untilSignal(engine, () => server.close());
    },
  );

  program
    .command('scheduler')
    .description('run the DAG processor (watching the DAG folders) and the scheduler')
    .action(async (_options: unknown, command: Command) => {
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
      await startServices(engine, 'scheduler');
      await engine.parseDags();
      engine.processor.watch();
      engine.startScheduler();
      engine.log.info('scheduler running');
      await untilSignal(engine);
    });

  program
    .command('worker')
    .description('run tasks from the task queue')
    .option('--queues <names>', 'comma-separated worker queues to serve', 'default')
    .option('--concurrency <n>', 'tasks run at once per queue')
    .action(async (options: { queues: string; concurrency?: string }, command: Command) => {
      const queues = options.queues.split(',').map((q) => q.trim()).filter(Boolean);
      if (queues.length === 0) throw new UsageError('--queues: give at least one queue name');
      const concurrency = options.concurrency ? positiveInt(options.concurrency, '--concurrency') : undefined;
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
      await startServices(engine, 'worker');
      await engine.startWorker({ queues, ...(concurrency ? { concurrency } : {}) });
      await untilSignal(engine);
    });

  const db = program.command('db').description('manage the metadata database');
  db.command('migrate')
    .description("apply pending migrations of the engine's schema, the task queue's and the configured plugins' (a no-op when up to date)")
    .action(async (_options: unknown, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const applied = [...engine.migrationsApplied, ...Object.entries(engine.pluginMigrationsApplied).flatMap(([plugin, names]) => names.map((n) => `${plugin}:${n}`))];
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date\n');
      });
    });
}
