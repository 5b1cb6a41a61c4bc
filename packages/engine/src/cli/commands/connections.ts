import type { Command } from 'commander';
import { AlreadyExistsError, NotFoundError } from '../../errors.js';
import { cliActor } from '../../service/audit.js';
import { createConnection, deleteConnection, getConnection, listConnections, updateConnection, type ConnectionFields, type ConnectionSummary } from '../../service/connections.js';
import { withEngine } from '../context.js';
import { parseJsonOption, table, UsageError, valueOrStdin } from '../output.js';

const REVEAL = 'show passwords and secret-looking extras instead of ***';

interface SetOptions {
  type?: string;
  description?: string;
  host?: string;
  port?: string;
  schema?: string;
  login?: string;
  password?: string;
  removePassword?: boolean;
  extra?: string;
}

function portOf(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port: expected a port number 1-65535, got '${value}'`);
  return port;
}

function extraOf(value: string): Record<string, unknown> {
  const extra = parseJsonOption(value, '--extra');
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) throw new UsageError(`--extra: expected a JSON object, got ${value}`);
  return extra as Record<string, unknown>;
}

/** The fields given on the command line; those left out are not changed. */
async function fieldsOf(options: SetOptions): Promise<Partial<ConnectionFields>> {
  if (options.password !== undefined && options.removePassword) throw new UsageError('--password and --remove-password: give one of them');
  const fields: Partial<ConnectionFields> = {};
  if (options.type !== undefined) fields.connType = options.type;
  if (options.description !== undefined) fields.description = options.description;
  if (options.host !== undefined) fields.host = options.host;
  if (options.port !== undefined) fields.port = portOf(options.port);
  if (options.schema !== undefined) fields.schema = options.schema;
  if (options.login !== undefined) fields.login = options.login;
  if (options.password !== undefined) fields.password = await valueOrStdin(options.password);
  if (options.removePassword) fields.password = null;
  if (options.extra !== undefined) fields.extra = extraOf(options.extra);
  return fields;
}

const address = (c: ConnectionSummary): string => (c.host ? `${c.host}${c.port ? `:${c.port}` : ''}` : '-');

/** `tributary connections list|get|set|delete` (Airflow's `airflow connections`). */
export function registerConnectionCommands(program: Command): void {
  const connections = program.command('connections').description('connections: where external systems are and how to sign in; passwords are masked');
  connections
    .command('list')
    .description('connections by id (passwords and secret-looking extras masked)')
    .option('--reveal', REVEAL)
    .option('--json', 'print JSON')
    .action(async (options: { reveal?: boolean; json?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        const rows = await listConnections(engine.db, { reveal: options.reveal });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['conn_id', 'type', 'host', 'schema', 'login', 'password', 'extra'],
            rows.map((c) => [c.connId, c.connType, address(c), c.schema ?? '-', c.login ?? '-', c.password ?? '-', Object.keys(c.extra).length ? JSON.stringify(c.extra) : '-']),
          )}\n`,
        );
      });
    });
  connections
    .command('get <connId>')
    .description('one connection as JSON (password and secret-looking extras masked unless --reveal)')
    .option('--reveal', REVEAL)
    .action(async (connId: string, options: { reveal?: boolean }, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        process.stdout.write(`${JSON.stringify(await getConnection(engine.db, connId, { reveal: options.reveal }), null, 2)}\n`);
      });
    });
  connections
    .command('set <connId>')
    .description('create a connection (--type needed), or change the fields given of an existing one')
    .option('--type <type>', 'connection type: postgres, http, s3, …')
    .option('--description <text>', 'what it is for')
    .option('--host <host>', 'host name or address')
    .option('--port <n>', 'port number')
    .option('--schema <schema>', 'database or path')
    .option('--login <login>', 'user name')
    .option('--password <password>', 'password (- reads it from standard input)')
    .option('--remove-password', 'remove the stored password')
    .option('--extra <json>', 'anything else the type needs, as a JSON object (replaces the stored one)')
    .action(async (connId: string, options: SetOptions, command: Command) => {
      const fields = await fieldsOf(options);
      if (Object.keys(fields).length === 0) throw new UsageError('give --type and the fields to set (--host, --port, --login, --password, …)');
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        let created = false;
        if (fields.connType !== undefined) {
          try {
            await createConnection(engine.db, connId, fields as ConnectionFields, cliActor());
            created = true;
          } catch (error) {
            if (!(error instanceof AlreadyExistsError)) throw error;
          }
        }
        if (!created) {
          try {
            await updateConnection(engine.db, connId, fields, cliActor());
          } catch (error) {
            if (error instanceof NotFoundError && fields.connType === undefined) throw new UsageError(`connection '${connId}' does not exist: give --type to create it`);
            throw error;
          }
        }
        process.stdout.write(`Connection ${connId} ${created ? 'created' : 'updated'}\n`);
      });
    });
  connections
    .command('delete <connId>')
    .description('delete a connection')
    .action(async (connId: string, _options: unknown, command: Command) => {
      await withEngine(command, { logLevel: 'warn' }, async (engine) => {
        await deleteConnection(engine.db, connId, cliActor());
        process.stdout.write(`Connection ${connId} deleted\n`);
      });
    });
}
