import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConnection } from '../src/service/connections.js';
import { getVariable } from '../src/service/variables.js';
import { PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';
import { BIN, runCli } from './support/cli.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
});
afterAll(() => setup?.close());

const cli = (args: string[]) => runCli(setup.database.url, args);
const audit = (object: string) => setup.engine.db.selectFrom('tributary.audit_log').select(['action', 'origin', 'details']).where('object', '=', object).orderBy('id').execute();

/** Run the CLI with `input` on its standard input. */
function cliWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--database-url', setup.database.url], { cwd: PACKAGE_DIR, env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn', DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('tributary variables', { timeout: 180_000 }, () => {
  it('sets, lists, gets and deletes variables, masking secret-looking keys unless --reveal, with audit entries from the CLI', async () => {
    expect((await cli(['variables', 'set', 'county_list', '["king"]', '--description', 'counties'])).stdout).toBe('Variable county_list created\n');
    expect((await cli(['variables', 'set', 'county_list', '["king","pierce"]'])).stdout).toBe('Variable county_list updated\n');
    // A secret from standard input stays out of the shell history.
    const secret = await cliWithInput(['variables', 'set', 'smtp_password', '-'], 'hunter2\n');
    expect(secret.stdout, secret.stderr).toBe('Variable smtp_password created\n');
    expect((await getVariable(setup.engine.db, 'smtp_password', { reveal: true })).value).toBe('hunter2');

    const listed = await cli(['variables', 'list']);
    expect(listed.stdout).toMatch(/county_list\s+\["king","pierce"\]\s+counties/);
    expect(listed.stdout).toMatch(/smtp_password\s+\*\*\*/);
    expect(listed.stdout).not.toContain('hunter2');
    expect((await cli(['variables', 'list', '--reveal'])).stdout).toMatch(/smtp_password\s+hunter2/);
    const json = JSON.parse((await cli(['variables', 'list', '--json'])).stdout) as { key: string; masked: boolean }[];
    expect(json.map((v) => [v.key, v.masked])).toEqual([['county_list', false], ['smtp_password', true]]);

    expect((await cli(['variables', 'get', 'county_list'])).stdout).toBe('["king","pierce"]\n');
    const masked = await cli(['variables', 'get', 'smtp_password']);
    expect(masked.stdout).toBe('***\n');
    expect(masked.stderr).toContain('pass --reveal');
    expect((await cli(['variables', 'get', 'smtp_password', '--reveal'])).stdout).toBe('hunter2\n');
    const missing = await cli(['variables', 'get', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("variable 'nope' not found");
    const badKey = await cli(['variables', 'set', 'bad key', 'x']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('key: expected 1-250 letters');

    expect((await cli(['variables', 'delete', 'county_list'])).stdout).toBe('Variable county_list deleted\n');
    expect(await audit('variable:county_list')).toEqual([
      expect.objectContaining({ action: 'variable_create', origin: 'cli' }),
      expect.objectContaining({ action: 'variable_update', origin: 'cli' }),
      expect.objectContaining({ action: 'variable_delete', origin: 'cli' }),
    ]);
    expect(JSON.stringify(await audit('variable:smtp_password'))).not.toContain('hunter2');
  });
});

describe('tributary connections', { timeout: 180_000 }, () => {
  it('creates with --type, changes only the fields given, masks the password unless --reveal, and deletes', async () => {
    const created = await cli(['connections', 'set', 'warehouse', '--type', 'postgres', '--host', 'db.internal', '--port', '5432', '--login', 'etl', '--password', 'hunter2', '--extra', '{"sslmode":"require","api_token":"t0k"}']);
    expect(created.stdout, created.stderr).toBe('Connection warehouse created\n');
    expect((await cli(['connections', 'set', 'warehouse', '--host', 'db2.internal'])).stdout).toBe('Connection warehouse updated\n');
    expect(await getConnection(setup.engine.db, 'warehouse', { reveal: true })).toMatchObject({ host: 'db2.internal', port: 5432, login: 'etl', password: 'hunter2', extra: { api_token: 't0k' } });

    const listed = await cli(['connections', 'list']);
    expect(listed.stdout).toMatch(/warehouse\s+postgres\s+db2\.internal:5432\s+-\s+etl\s+\*\*\*\s+\{"sslmode":"require","api_token":"\*\*\*"\}/);
    expect(listed.stdout).not.toMatch(/hunter2|t0k/);
    expect(JSON.parse((await cli(['connections', 'get', 'warehouse'])).stdout)).toMatchObject({ connId: 'warehouse', password: '***', extra: { api_token: '***' } });
    expect(JSON.parse((await cli(['connections', 'get', 'warehouse', '--reveal'])).stdout)).toMatchObject({ password: 'hunter2', extra: { api_token: 't0k' } });
    expect((await cli(['connections', 'list', '--reveal'])).stdout).toContain('hunter2');

    const badPort = await cli(['connections', 'set', 'warehouse', '--port', 'http']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port: expected a port number 1-65535, got 'http'");
    const badExtra = await cli(['connections', 'set', 'warehouse', '--extra', '[1]']);
    expect(badExtra.stderr).toContain('--extra: expected a JSON object');
    const noType = await cli(['connections', 'set', 'nope', '--host', 'x']);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain("connection 'nope' does not exist: give --type to create it");

    expect((await cli(['connections', 'set', 'warehouse', '--remove-password'])).code).toBe(0);
    expect((await getConnection(setup.engine.db, 'warehouse', { reveal: true })).password).toBeNull();
    expect((await cli(['connections', 'delete', 'warehouse'])).stdout).toBe('Connection warehouse deleted\n');
    expect((await cli(['connections', 'delete', 'warehouse'])).stderr).toContain("connection 'warehouse' not found");
    const entries = await audit('connection:warehouse');
    expect(entries.map((e) => [e.action, e.origin])).toEqual([
      ['connection_create', 'cli'],
      ['connection_update', 'cli'],
      ['connection_update', 'cli'],
      ['connection_delete', 'cli'],
    ]);
    expect(JSON.stringify(entries)).not.toMatch(/hunter2|t0k/);
  });
});
