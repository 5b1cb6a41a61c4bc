import type { Command } from 'commander';
import { Tributary } from '../../engine.js';
import { engineOptions, untilSignal, withEngine } from '../context.js';
import { UsageError } from '../output.js';

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option}: expected a positive integer, got '${value}'`);
  return n;
}

/** `tributary standalone|scheduler|worker|db` */
export function registerServiceCommands(program: Command): void {
  program
    .command('standalone')
    .description('everything in one process: migrate, load and watch DAGs, scheduler and a worker')
    .option('--concurrency <n>', 'tasks the worker runs at once')
    .action(async (options: { concurrency?: string }, command: Command) => {
      const concurrency = options.concurrency ? positiveInt(options.concurrency, '--concurrency') : undefined;
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
      const parsed = await engine.parseDags();
      engine.processor.watch();
      engine.startScheduler();
      await engine.startWorker(concurrency ? { concurrency } : {});
      engine.log.info(
        { dags: parsed.dags, importErrors: parsed.importErrors, folders: engine.config.dagsFolders, database: engine.config.databaseUrl ? 'DATABASE_URL' : 'embedded' },
        'Tributary standalone is running (Ctrl-C to stop)',
      );
      await untilSignal(engine);
    });

  program
    .command('scheduler')
    .description('run the DAG processor (watching the DAG folders) and the scheduler')
    .action(async (_options: unknown, command: Command) => {
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
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
