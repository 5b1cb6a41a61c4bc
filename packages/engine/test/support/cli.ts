import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_DIR } from './common.js';

const run = promisify(execFile);

/** The workspace's `tributary` command. */
export const BIN = join(PACKAGE_DIR, 'bin/tributary.js');

/**
 * Run the real CLI against `databaseUrl`, from the package directory unless `options.cwd` names a
 * project directory (whose `tributary.config.json` the CLI then reads); resolves with exit code and output.
 */
export async function runCli(databaseUrl: string, args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args, '--database-url', databaseUrl], {
      cwd: options.cwd ?? PACKAGE_DIR,
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | string | null; stdout: string; stderr: string };
    // A spawn failure (E2BIG for an argument over the OS limit) has a string code and no exit status.
    if (typeof e.code === 'string') throw error;
    return { code: e.code as number, stdout: e.stdout, stderr: e.stderr };
  }
}
