import type { Command } from 'commander';
import { Tributary } from '../../engine.js';
import { engineOptions } from '../context.js';
import { UsageError } from '../output.js';

/**
 * `tributary tasks run <dag> <run> <task> --try <n>`: run one try of a task instance in this process,
 * recording its state, log and result in the database like a worker. It is what a pod of the
 * `kubernetes` executor runs; by hand it runs a queued instance's next try in the foreground.
 */
export function registerTaskRunCommand(tasks: Command): void {
  tasks
    .command('run <dag> <run> <task>')
    .description('run one try of a task instance here, recording it like a worker (what a kubernetes executor pod runs)')
    .requiredOption('--try <n>', "the try to run: the one a worker claimed for this pod, or a queued instance's next try")
    .option('--map-index <n>', 'map index of a mapped task', '-1')
    .action(async (dagId: string, runId: string, taskId: string, options: { try: string; mapIndex: string }, command: Command) => {
      const tryNumber = Number(options.try);
      if (!Number.isInteger(tryNumber) || tryNumber < 1) throw new UsageError(`--try: expected a positive integer, got '${options.try}'`);
      const mapIndex = Number(options.mapIndex);
      if (!Number.isInteger(mapIndex) || mapIndex < -1) throw new UsageError(`--map-index: expected an integer >= -1, got '${options.mapIndex}'`);
      const engine = await Tributary.open(engineOptions(command, { logLevel: 'info' }));
      // SIGTERM (the pod being deleted or evicted) stops the task; its try fails and is retried.
      const shutdown = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        engine.log.warn({ signal, dagId, runId, taskId }, 'stopping the task');
        shutdown.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const result = await engine.runTaskInstance({ dagId, runId, taskId, mapIndex, tryNumber }, shutdown.signal);
        process.stdout.write(`${dagId}.${taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''} try ${result.tryNumber} (run ${runId}): ${result.state}\n`);
        process.exitCode = result.state === 'success' || result.state === 'skipped' ? 0 : 1;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await engine.close();
      }
    });
}
