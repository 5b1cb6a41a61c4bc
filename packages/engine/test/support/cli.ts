import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_DIR } from '../helpers.js';

const run = promisify(execFile);

/** The workspace's `tributary` command. */
export const BIN = join(PACKAGE_DIR, 'bin/tributary.js');

/** Run the real CLI against `databaseUrl` from the package directory; resolves with exit code and output. */
export async function runCli(databaseUrl: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args, '--database-url', databaseUrl], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn', DATABASE_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
