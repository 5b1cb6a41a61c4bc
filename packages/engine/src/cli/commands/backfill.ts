import type { Command } from 'commander';
import { cliActor } from '../../service/audit.js';
import { cancelBackfill, createBackfill, listBackfills, type BackfillSummary, type PlannedBackfillRun } from '../../service/backfill.js';
import { BACKFILL_REPROCESS, type BackfillReprocess } from '../../schedule/backfill.js';
import { withEngine } from '../context.js';
import { parseJsonOption, table, UsageError } from '../output.js';

function progress(b: BackfillSummary): string {
  const o = b.outcomes;
  const total = Object.values(o).reduce((a, n) => a + n, 0);
  return `${total - o.pending}/${total} handled (${o.created} created, ${o.cleared} rerun, ${o.exists + o.in_flight} left as they were${o.cancelled ? `, ${o.cancelled} cancelled` : ''}); ${b.activeRuns} active`;
}

function printPlan(plan: readonly PlannedBackfillRun[]): void {
  const verbs = { create: 'create a run', clear: 'clear and rerun', exists: 'keep (exists)', in_flight: 'leave (queued or running)' };
  process.stdout.write(
    `${table(
      ['logical date', 'interval end', 'action', 'existing run'],
      plan.map((p) => [p.logicalDate.toISOString(), p.dataInterval.end.toISOString(), verbs[p.action], p.existing ? `${p.existing.runId} (${p.existing.state})` : '-']),
    )}\n`,
  );
}

function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option}: expected an integer >= 1, got '${value}'`);
  return n;
}

/** `tributary backfill create|list|cancel` */
export function registerBackfillCommands(program: Command): void {
  const backfill = program.command('backfill').description('run a DAG over past intervals; the scheduler carries it out');

  backfill
    .command('create <dag>')
    .description('create runs for every interval whose logical date is in [--from, --to]')
    .requiredOption('--from <date>', 'first logical date (ISO 8601; without an offset, in the DAG time zone)')
    .requiredOption('--to <date>', 'last logical date, inclusive')
    .option('--reprocess <mode>', `existing runs to run again: ${BACKFILL_REPROCESS.join(', ')}`, 'none')
    .option('--max-active-runs <n>', "runs of the backfill running at once (default: the DAG's maxActiveRuns)")
    .option('--run-backwards', 'newest interval first')
    .option('--params <json>', 'params of every run, as a JSON object')
    .option('--dry-run', 'print what would be done and create nothing')
    .option('--json', 'print JSON')
    .action(
      async (
        dagId: string,
        options: { from: string; to: string; reprocess: string; maxActiveRuns?: string; runBackwards?: boolean; params?: string; dryRun?: boolean; json?: boolean },
        command: Command,
      ) => {
        if (!BACKFILL_REPROCESS.includes(options.reprocess as BackfillReprocess)) {
          throw new UsageError(`--reprocess: expected one of ${BACKFILL_REPROCESS.join(', ')}, got '${options.reprocess}'`);
        }
        const maxActiveRuns = options.maxActiveRuns === undefined ? undefined : positiveInteger(options.maxActiveRuns, '--max-active-runs');
        const params = options.params === undefined ? undefined : parseJsonOption(options.params, '--params');
        await withEngine(command, { logLevel: 'warn' }, async (engine) => {
          const result = await createBackfill(
            engine.context,
            {
              dagId,
              from: options.from,
              to: options.to,
              reprocess: options.reprocess as BackfillReprocess,
              maxActiveRuns,
              runBackwards: options.runBackwards,
              params,
              dryRun: options.dryRun,
            },
            cliActor(),
          );
          if (options.json) {
            process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            return;
          }
          printPlan(result.plan);
          if (!result.backfill) {
            process.stdout.write(`Dry run: ${result.plan.length} intervals; nothing was created\n`);
            return;
          }
          process.stdout.write(`Backfill ${result.backfill.id} created for ${result.plan.length} intervals; the scheduler carries it out (tributary backfill list)\n`);
          if (result.dagPaused) process.stderr.write(`warning: DAG '${dagId}' is paused; its backfill runs wait until it is unpaused\n`);
        });
      },
    );

  backfill
    .command('list')
    .description('backfills, newest first, with their progress')
    .option('--dag <dag>', 'only backfills of this DAG')
    .option('--running', 'only running backfills')
    .option('--json', 'print JSON')
    .action(async (options: { dag?: string; running?: boolean; json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const list = await listBackfills(engine.db, { dagId: options.dag, runningOnly: options.running });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['id', 'dag_id', 'from', 'to', 'reprocess', 'max runs', 'state', 'progress'],
            list.map((b) => [b.id, b.dagId, b.from.toISOString(), b.to.toISOString(), b.reprocess, b.maxActiveRuns, b.state, progress(b)]),
          )}\n`,
        );
      });
    });

  backfill
    .command('cancel <id>')
    .description('stop a backfill: no more runs are created, runs not started fail, running ones finish')
    .action(async (id: string, _options: unknown, command: Command) => {
      const backfillId = positiveInteger(id, '<id>');
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const cancelled = await cancelBackfill(engine.context, backfillId, cliActor());
        process.stdout.write(`Backfill ${cancelled.id} cancelled: ${progress(cancelled)}\n`);
      });
    });
}
