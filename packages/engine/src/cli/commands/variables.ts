import type { Command } from 'commander';
import { cliActor } from '../../service/audit.js';
import { MASK } from '../../service/secrets.js';
import { deleteVariable, getVariable, listVariables, setVariable } from '../../service/variables.js';
import { withEngine } from '../context.js';
import { table, valueOrStdin } from '../output.js';

const REVEAL = 'show the values of secret-looking keys (password, token, api_key, …) instead of ***';

/** One line of a value for a table: newlines shown as ⏎, long values cut. */
function oneLine(value: string): string {
  const line = value.replace(/\r?\n/g, '⏎');
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** `tributary variables list|get|set|delete` (Airflow's `airflow variables`). */
export function registerVariableCommands(program: Command): void {
  const variables = program.command('variables').description('variables: named values tasks read; values of secret-looking keys are masked');
  variables
    .command('list')
    .description('variables by key, with their value (masked when the key looks secret) and description')
    .option('--reveal', REVEAL)
    .option('--json', 'print JSON')
    .action(async (options: { reveal?: boolean; json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const rows = await listVariables(engine.db, { reveal: options.reveal });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${table(['key', 'value', 'description', 'updated'], rows.map((v) => [v.key, oneLine(v.value), v.description ?? '', v.updatedAt.toISOString()]))}\n`);
      });
    });
  variables
    .command('get <key>')
    .description('print a variable’s value (*** when the key looks secret, unless --reveal)')
    .option('--reveal', REVEAL)
    .option('--json', 'print the variable as JSON')
    .action(async (key: string, options: { reveal?: boolean; json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const variable = await getVariable(engine.db, key, { reveal: options.reveal });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(variable, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${variable.value}\n`);
        if (variable.masked) process.stderr.write(`note: '${key}' looks secret, so its value is shown as ${MASK}; pass --reveal to print it\n`);
      });
    });
  variables
    .command('set <key> <value>')
    .description('create a variable or replace its value (- reads the value from standard input)')
    .option('--description <text>', 'what the variable is for (kept as it was when left out)')
    .action(async (key: string, value: string, options: { description?: string }, command: Command) => {
      const text = await valueOrStdin(value);
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const { created } = await setVariable(engine.db, { key, value: text, ...(options.description === undefined ? {} : { description: options.description }) }, cliActor());
        process.stdout.write(`Variable ${key} ${created ? 'created' : 'updated'}\n`);
      });
    });
  variables
    .command('delete <key>')
    .description('delete a variable')
    .action(async (key: string, _options: unknown, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await deleteVariable(engine.db, key, cliActor());
        process.stdout.write(`Variable ${key} deleted\n`);
      });
    });
}
