import type { Command } from 'commander';
import type { UserRole } from '../../db/schema.js';
import { cliActor } from '../../service/audit.js';
import { generatePassword } from '../../service/passwords.js';
import { createApiToken } from '../../service/tokens.js';
import { USER_ROLES, createUser, listUsers, updateUser } from '../../service/users.js';
import { withEngine } from '../context.js';
import { table, UsageError } from '../output.js';

function role(value: string): UserRole {
  if (!USER_ROLES.includes(value as UserRole)) throw new UsageError(`--role: expected one of ${USER_ROLES.join(', ')}, got '${value}'`);
  return value as UserRole;
}

/** `tributary users create|list|set-password|token` */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('users of the web monitor and REST API');
  users
    .command('create')
    .description('create a user (prints a generated password when none is given)')
    .requiredOption('--username <name>', 'user name')
    .requiredOption('--role <role>', `one of ${USER_ROLES.join(', ')}`)
    .option('--password <password>', 'password (default: generated and printed once)')
    .action(async (options: { username: string; role: string; password?: string }, command: Command) => {
      const chosen = role(options.role);
      const password = options.password ?? generatePassword();
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const user = await createUser(engine.db, { username: options.username, role: chosen, password }, cliActor());
        process.stdout.write(`User ${user.username} created with role ${user.role}\n`);
        if (!options.password) process.stdout.write(`password: ${password}\n(shown once)\n`);
      });
    });
  users
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const rows = await listUsers(engine.db);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(['username', 'role', 'disabled', 'created', 'last login'], rows.map((u) => [u.username, u.role, u.disabled ? 'yes' : 'no', u.createdAt.toISOString(), u.lastLoginAt?.toISOString() ?? '-']))}\n`,
        );
      });
    });
  users
    .command('set-password <username>')
    .description("set a user's password (generated and printed when --password is not given); ends their sessions")
    .option('--password <password>', 'the new password')
    .action(async (username: string, options: { password?: string }, command: Command) => {
      const password = options.password ?? generatePassword();
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await updateUser(engine.db, username, { password }, cliActor());
        process.stdout.write(`Password of ${username} changed\n`);
        if (!options.password) process.stdout.write(`password: ${password}\n(shown once)\n`);
      });
    });
  users
    .command('token <username>')
    .description('create an API token for a user (printed once) for Authorization: Bearer')
    .option('--name <name>', 'what the token is for', 'cli')
    .action(async (username: string, options: { name: string }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const { token } = await createApiToken(engine.db, { username, name: options.name }, cliActor());
        process.stdout.write(`${token}\n`);
      });
    });
}
