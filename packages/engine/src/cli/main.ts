import { Command, CommanderError } from 'commander';
import { TributaryError } from '../errors.js';
import { registerAssetCommands } from './commands/assets.js';
import { registerBackfillCommands } from './commands/backfill.js';
import { registerConnectionCommands } from './commands/connections.js';
import { registerDagCommands } from './commands/dags.js';
import { registerPluginCommands } from './commands/plugins.js';
import { registerPoolCommands } from './commands/pools.js';
import { registerRunCommands } from './commands/runs.js';
import { registerServiceCommands } from './commands/services.js';
import { registerTaskCommands } from './commands/tasks.js';
import { registerUserCommands } from './commands/users.js';
import { registerVariableCommands } from './commands/variables.js';
import { UsageError } from './output.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Build the `tributary` command. */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary: TypeScript DAGs run through Postgres')
    .version('0.1.0')
    .option('--dags-folder <path>', 'folder of DAG files (repeatable; default from tributary.config.json, $TRIBUTARY_DAGS_FOLDER or ./dags)', collect)
    .option('--database-url <url>', 'PostgreSQL connection string (default $DATABASE_URL, else embedded PostgreSQL)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent')
    .showHelpAfterError()
    .exitOverride();
  registerServiceCommands(program);
  registerDagCommands(program);
  registerTaskCommands(program);
  registerRunCommands(program);
  registerBackfillCommands(program);
  registerPoolCommands(program);
  registerVariableCommands(program);
  registerConnectionCommands(program);
  registerAssetCommands(program);
  registerPluginCommands(program);
  registerUserCommands(program);
  return program;
}

/** Run the CLI with `argv`; resolves with the exit code. */
export async function runCli(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof TributaryError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
