import type { Command } from 'commander';
import { getTaskLogs } from '../../service/logs.js';
import { getRun } from '../../service/runs.js';
import { withEngine } from '../context.js';
import { UsageError } from '../output.js';
import { registerTaskRunCommand } from './task-run.js';

/** `tributary tasks …` */
export function registerTaskCommands(program: Command): void {
  const tasks = program.command('tasks').description('inspect and run task instances');
  registerTaskRunCommand(tasks);

  tasks
    .command('logs <dag> <run> <task>')
    .description("print a task instance's log (every try, or one)")
    .option('--try <n>', 'only this try')
    .option('--map-index <n>', 'map index of a mapped task', '-1')
    .option('-f, --follow', 'keep printing new lines until the run finishes')
    .action(async (dagId: string, runId: string, taskId: string, options: { try?: string; mapIndex: string; follow?: boolean }, command: Command) => {
      const tryNumber = options.try === undefined ? undefined : Number(options.try);
      if (tryNumber !== undefined && (!Number.isInteger(tryNumber) || tryNumber < 1)) throw new UsageError(`--try: expected a positive integer, got '${options.try}'`);
      const mapIndex = Number(options.mapIndex);
      if (!Number.isInteger(mapIndex) || mapIndex < -1) throw new UsageError(`--map-index: expected an integer >= -1, got '${options.mapIndex}'`);
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        let afterId = 0;
        let lastTry = 0;
        for (;;) {
          const lines = await getTaskLogs(engine.db, { dagId, runId, taskId, mapIndex, tryNumber, afterId });
          for (const line of lines) {
            if (line.tryNumber !== lastTry && tryNumber === undefined) {
              process.stdout.write(`--- try ${line.tryNumber} ---\n`);
              lastTry = line.tryNumber;
            }
            process.stdout.write(`[${line.at.toISOString()}] ${line.level.toUpperCase().padEnd(5)} ${line.message}\n`);
            afterId = Math.max(afterId, line.id);
          }
          if (!options.follow) break;
          const run = await getRun(engine.db, dagId, runId);
          if (run.state === 'success' || run.state === 'failed') break;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      });
    });
}
