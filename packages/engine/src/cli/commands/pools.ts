import type { Command } from 'commander';
import { AlreadyExistsError } from '../../errors.js';
import { cliActor } from '../../service/audit.js';
import { createPool, deletePool, listPools, MAX_POOL_SLOTS, updatePool, type PoolSummary } from '../../service/pools.js';
import { withEngine } from '../context.js';
import { table, UsageError } from '../output.js';

function slotsOf(value: string): number {
  const slots = Number(value);
  if (!Number.isInteger(slots) || slots < -1) throw new UsageError(`slots: expected a whole number >= 0, or -1 for unlimited, got '${value}'`);
  if (slots > MAX_POOL_SLOTS) throw new UsageError(`slots: expected a whole number up to ${MAX_POOL_SLOTS}, or -1 for unlimited, got '${value}'`);
  return slots;
}

const shown = (n: number): string => (n === -1 ? 'unlimited' : String(n));

/** `tributary pools list|set|delete` (Airflow's `airflow pools`). */
export function registerPoolCommands(program: Command): void {
  const pools = program.command('pools').description('pools: slots shared by the tasks that name them');
  pools
    .command('list')
    .description('pools with their slots in use (running, queued) and waiting (scheduled)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const rows = await listPools(engine.db);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['pool', 'slots', 'open', 'running', 'queued', 'scheduled', 'description'],
            rows.map((p) => [p.name, shown(p.slots), shown(p.openSlots), p.runningSlots, p.queuedSlots, p.scheduledSlots, p.description ?? '']),
          )}\n`,
        );
      });
    });
  pools
    .command('set <name> <slots> [description]')
    .description('create a pool or change its slots (and description); -1 slots is unlimited. Waiting tasks start at once if it grew')
    .action(async (name: string, slotsText: string, description: string | undefined, _options: unknown, command: Command) => {
      const slots = slotsOf(slotsText);
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        let pool: PoolSummary;
        try {
          pool = await createPool(engine.context, { name, slots, description: description ?? null }, cliActor());
        } catch (error) {
          if (!(error instanceof AlreadyExistsError)) throw error;
          pool = await updatePool(engine.context, name, { slots, ...(description === undefined ? {} : { description }) }, cliActor());
        }
        process.stdout.write(`Pool ${pool.name}: ${shown(pool.slots)} slots (${shown(pool.openSlots)} open)\n`);
      });
    });
  pools
    .command('delete <name>')
    .description('delete a pool (not default_pool); tasks naming it wait until it exists again')
    .action(async (name: string, _options: unknown, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await deletePool(engine.db, name, cliActor());
        process.stdout.write(`Pool ${name} deleted\n`);
      });
    });
}
