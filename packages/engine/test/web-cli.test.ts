import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PACKAGE_DIR, setupEngine, type TestSetup } from './helpers.js';
import { BIN, runCli } from './support/cli.js';

let setup: TestSetup;
beforeAll(async () => {
  setup = await setupEngine();
});
afterAll(() => setup?.close());

const cli = (args: string[]) => runCli(setup.database.url, args);

describe('tributary standalone and users', { timeout: 180_000 }, () => {
  it('standalone creates the first admin, prints its password once, and serves the monitor on --port', async () => {
    const child = spawn(process.execPath, [BIN, 'standalone', '--port', '0', '--host', '127.0.0.1', '--dags-folder', 'test/fixtures/dags', '--database-url', setup.database.url], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'info', DATABASE_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const url = await eventually(async () => /web monitor at (http:\/\/[\d.]+:\d+)/.exec(stderr)?.[1], 60_000, 'the web monitor to listen');
      const password = /password: (\S+)/.exec(stdout)?.[1];
      expect(stdout).toContain('username: admin');
      expect(password).toMatch(/^\w{20}$/);

      const page = await fetch(`${url}/`);
      const html = await page.text();
      expect(html).toContain('action="/login"');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      const cookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
      const login = await fetch(`${url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'admin', password: password!, _csrf: csrf }),
      });
      expect(login.status).toBe(303);
      const health = await eventually(async () => {
        const r = await fetch(`${url}/healthz`);
        return r.status === 200 ? ((await r.json()) as { status: string }) : undefined;
      }, 30_000, 'standalone to report healthy');
      expect(health.status).toBe('healthy');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    const users = await cli(['users', 'list', '--json']);
    expect(JSON.parse(users.stdout)).toEqual([expect.objectContaining({ username: 'admin', role: 'admin' })]);
  });

  it('webserver --port 0 picks a free port, serves the sign-in form at /, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'webserver', '--port', '0', '--host', '127.0.0.1', '--database-url', setup.database.url], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'info', DATABASE_URL: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let stopped = false;
    try {
      const url = await eventually(async () => /web monitor at (http:\/\/[\d.]+:\d+)/.exec(stderr)?.[1], 60_000, 'the web monitor to listen');
      expect(url).not.toMatch(/:0$/);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<form method="post" action="/login" id="login"');
      expect(html).toMatch(/name="_csrf" value="[\w-]{43}"/);
      expect((await fetch(`${url}/livez`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      stopped = true;
      // Nothing listens any more.
      await expect(fetch(`${url}/livez`)).rejects.toThrow();
    } finally {
      if (!stopped) child.kill('SIGKILL');
    }
  });

  it('users create prints a generated password when none is given and rejects a bad role (exit 2)', async () => {
    const created = await cli(['users', 'create', '--username', 'ops', '--role', 'operator']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/User ops created with role operator\npassword: \w{20}\n/);
    const withPassword = await cli(['users', 'create', '--username', 'viewer1', '--role', 'viewer', '--password', 'a-long-password']);
    expect(withPassword.stdout).toBe('User viewer1 created with role viewer\n');
    const badRole = await cli(['users', 'create', '--username', 'x', '--role', 'root']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role: expected one of viewer, operator, admin');
    const duplicate = await cli(['users', 'create', '--username', 'ops', '--role', 'viewer']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain("user 'ops' already exists");
    const token = await cli(['users', 'token', 'ops', '--name', 'ci']);
    expect(token.stdout).toMatch(/^trb_[\w-]{43}\n$/);
    const listed = await cli(['users', 'list']);
    expect(listed.stdout).toMatch(/ops\s+operator\s+no/);
  });
});
