import type { Command } from 'commander';
import { cancelRun, clearTaskInstances, markTaskInstances, type ChangedTaskInstance } from '../../service/actions.js';
import { cliActor } from '../../service/audit.js';
import { withEngine } from '../context.js';
import { table, UsageError } from '../output.js';

function report(verb: string, changed: ChangedTaskInstance[]): void {
  if (changed.length === 0) {
    process.stdout.write(`Nothing to ${verb}\n`);
    return;
  }
  process.stdout.write(`${table(['task', 'was'], changed.map((c) => [c.mapIndex >= 0 ? `${c.taskId}[${c.mapIndex}]` : c.taskId, c.previousState ?? 'none']))}\n`);
}

/** `tributary runs …` and the task actions `tasks clear|mark`. */
export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('list and stop runs');
  runs
    .command('list <dag>')
    .description('recent runs of a DAG, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (dagId: string, options: { limit: string; json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const rows = await engine.db
          .selectFrom('tributary.dag_run')
          .select(['run_id', 'run_type', 'state', 'logical_date', 'start_date', 'end_date'])
          .where('dag_id', '=', dagId)
          .orderBy('id', 'desc')
          .limit(Math.max(1, Number(options.limit) || 20))
          .execute();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(['run_id', 'type', 'state', 'logical date', 'started', 'ended'], rows.map((r) => [r.run_id, r.run_type, r.state, r.logical_date.toISOString(), r.start_date?.toISOString() ?? '-', r.end_date?.toISOString() ?? '-']))}\n`,
        );
      });
    });
  runs
    .command('cancel <dag> <run>')
    .description('stop a run: running tasks fail, tasks not started are skipped, the run fails')
    .action(async (dagId: string, runId: string, _options: unknown, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        report('stop', await cancelRun(engine.context, dagId, runId, cliActor()));
        process.stdout.write(`Run ${runId} cancelled\n`);
      });
    });

  const tasks = program.commands.find((c) => c.name() === 'tasks') ?? program.command('tasks');
  tasks
    .command('clear <dag> <run> [tasks...]')
    .description('clear task instances so they run again (all tasks of the run when none are named)')
    .option('--downstream', 'also clear everything downstream')
    .option('--upstream', 'also clear everything upstream')
    .option('--only-failed', 'only failed and upstream_failed instances')
    .action(async (dagId: string, runId: string, taskIds: string[], options: { downstream?: boolean; upstream?: boolean; onlyFailed?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const changed = await clearTaskInstances(
          engine.context,
          { dagId, runId, taskIds: taskIds.length ? taskIds : undefined, downstream: options.downstream, upstream: options.upstream, onlyFailed: options.onlyFailed },
          cliActor(),
        );
        report('clear', changed);
      });
    });
  tasks
    .command('mark <dag> <run> <task> <state>')
    .description('set a task instance to success or failed by hand')
    .option('--downstream', 'also mark everything downstream')
    .option('--upstream', 'also mark everything upstream')
    .action(async (dagId: string, runId: string, taskId: string, state: string, options: { downstream?: boolean; upstream?: boolean }, command: Command) => {
      if (state !== 'success' && state !== 'failed') {
        throw new UsageError(`<state>: expected success or failed, got '${state}'`);
      }
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        report(`mark ${state}`, await markTaskInstances(engine.context, { dagId, runId, taskIds: [taskId], downstream: options.downstream, upstream: options.upstream }, state, cliActor()));
      });
    });
}
