import type { Command } from 'commander';
import { pauseDag } from '../../service/actions.js';
import { cliActor } from '../../service/audit.js';
import { listDags, listImportErrors } from '../../service/dags.js';
import { listTaskInstances, triggerDag, waitForRun } from '../../service/runs.js';
import { testDag } from '../../service/test-dag.js';
import { withEngine } from '../context.js';
import { formatDuration, parseJsonOption, table, UsageError } from '../output.js';

function isoOrDash(date: Date | null | undefined): string {
  return date ? date.toISOString() : '-';
}

/** `tributary dags …` */
export function registerDagCommands(program: Command): void {
  const dags = program.command('dags').description('list, trigger, test and pause DAGs');

  dags
    .command('list')
    .description('parse the DAG folders, then list DAGs and import errors')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        if (!options.json) process.stderr.write(`Parsing DAG files in ${engine.config.dagsFolders.join(', ')}…\n`);
        const parsed = await engine.parseDags();
        const [list, errors] = [await listDags(engine.db), await listImportErrors(engine.db)];
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ dags: list, importErrors: errors }, null, 2)}\n`);
          return;
        }
        process.stderr.write(`Parsed ${parsed.files} files in ${formatDuration(parsed.durationMs)}\n`);
        process.stdout.write(
          `${table(
            ['dag_id', 'file', 'schedule', 'paused', 'version', 'last run', 'next run'],
            list.map((d) => [
              d.dagId,
              d.file ?? '-',
              d.schedule ?? 'manual',
              d.isPaused ? 'yes' : 'no',
              d.latestVersion ?? '-',
              d.lastRun ? `${d.lastRun.state} (${d.lastRun.runId})` : '-',
              isoOrDash(d.nextRunAfter),
            ]),
          )}\n`,
        );
        if (errors.length > 0) {
          process.stdout.write(`\nImport errors (${errors.length}):\n`);
          for (const e of errors) process.stdout.write(`  ${e.file}: ${e.message.split('\n')[0]}\n`);
        }
      });
    });

  dags
    .command('trigger <dag>')
    .description('create a manual run (the scheduler and workers carry it out)')
    .option('--params <json>', 'run params as a JSON object')
    .option('--run-id <id>', 'run id (default manual__<now>)')
    .option('--wait', 'wait until the run finishes; exit 1 if it failed')
    .action(async (dagId: string, options: { params?: string; runId?: string; wait?: boolean }, command: Command) => {
      const params = options.params === undefined ? undefined : parseJsonOption(options.params, '--params');
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const run = await triggerDag(engine.context, dagId, { params, runId: options.runId, triggeredBy: 'cli', actor: cliActor() });
        process.stdout.write(`Created run ${run.run_id} of ${dagId} (${run.state})\n`);
        if (options.wait) {
          const state = await waitForRun(engine.db, run.id, {
            onChange: (ti) => process.stderr.write(`  ${ti.taskId}: ${ti.state ?? 'none'} (try ${ti.tryNumber})\n`),
          });
          process.stdout.write(`Run ${run.run_id}: ${state}\n`);
          if (state !== 'success') process.exitCode = 1;
        }
      });
    });

  dags
    .command('test <dag>')
    .description('run a whole DAG once in this process and report every task; exit 1 if the run failed')
    .option('--params <json>', 'run params as a JSON object')
    .option('--logical-date <date>', 'logical date (ISO 8601), default now')
    .option('--json', 'print the result as JSON')
    .action(async (dagId: string, options: { params?: string; logicalDate?: string; json?: boolean }, command: Command) => {
      const params = options.params === undefined ? undefined : parseJsonOption(options.params, '--params');
      let logicalDate: Date | undefined;
      if (options.logicalDate !== undefined) {
        logicalDate = new Date(options.logicalDate);
        if (Number.isNaN(logicalDate.getTime())) throw new UsageError(`--logical-date: not an ISO 8601 date: '${options.logicalDate}'`);
      }
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const result = await testDag(engine, dagId, {
          params,
          logicalDate,
          onChange: options.json
            ? undefined
            : (ti) => process.stderr.write(`  ${ti.taskId}: ${ti.state ?? 'none'}${ti.tryNumber > 0 ? ` (try ${ti.tryNumber})` : ''}\n`),
        });
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify(
              {
                dagId,
                runId: result.run.run_id,
                state: result.state,
                durationMs: Math.round(result.durationMs),
                tasks: result.tasks.map((t) => ({ taskId: t.taskId, state: t.state, tries: t.tryNumber, durationMs: t.durationMs })),
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(
            `\n${table(
              ['task', 'state', 'tries', 'duration'],
              result.tasks.map((t) => [t.taskId, t.state ?? 'none', t.tryNumber, formatDuration(t.durationMs)]),
            )}\n\nRun ${result.run.run_id}: ${result.state} in ${formatDuration(result.durationMs)}\n`,
          );
          const failed = result.tasks.filter((t) => t.state === 'failed');
          if (failed.length > 0) {
            process.stdout.write(`See a failed task's log: tributary tasks logs ${dagId} '${result.run.run_id}' ${failed[0]!.taskId}\n`);
          }
        }
        if (result.state !== 'success') process.exitCode = 1;
      });
    });

  for (const [name, paused] of [['pause', true], ['unpause', false]] as const) {
    dags
      .command(`${name} <dag>`)
      .description(paused ? 'stop scheduling runs and starting tasks of a DAG' : 'resume a paused DAG')
      .action(async (dagId: string, _options: unknown, command: Command) => {
        await withEngine(command, { logLevel: 'warn' }, async (engine) => {
          await pauseDag(engine.context, dagId, paused, cliActor());
          process.stdout.write(`DAG ${dagId} ${paused ? 'paused' : 'unpaused'}\n`);
        });
      });
  }

  dags
    .command('state <dag> <run>')
    .description("print a run's state and its task instances")
    .option('--json', 'print JSON')
    .action(async (dagId: string, runId: string, options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const { getRun } = await import('../../service/runs.js');
        const run = await getRun(engine.db, dagId, runId);
        const tasks = await listTaskInstances(engine.db, run.id);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ runId: run.run_id, state: run.state, tasks }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`Run ${run.run_id}: ${run.state}\n${table(['task', 'state', 'tries', 'duration'], tasks.map((t) => [t.taskId, t.state ?? 'none', t.tryNumber, formatDuration(t.durationMs)]))}\n`);
      });
    });
}
