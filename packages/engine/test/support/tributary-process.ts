import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineConfig } from '../../src/config.js';
import { eventually, tempDagFolder } from './common.js';
import { BIN } from './cli.js';

/** Most output kept per process: the end of it, which is where a crash is told. */
const KEPT_OUTPUT_CHARS = 256 * 1024;

/** A long-running `tributary` process (scheduler, worker, …) started by {@link startTributary}. */
export interface TributaryProcess {
  readonly child: ChildProcess;
  /** The last {@link KEPT_OUTPUT_CHARS} characters of stdout and stderr, interleaved. */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Wait until the output matches `pattern`; fails (showing the output) after `timeoutMs` or if the process exits. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Start the real `tributary` command (e.g. `['scheduler']`) against `databaseUrl`, from `cwd` (the
 * project directory whose `tributary.config.json` it reads).
 */
export function startTributary(args: readonly string[], options: { cwd: string; databaseUrl: string; logLevel?: string }): TributaryProcess {
  const child = spawn(process.execPath, [BIN, ...args, '--database-url', options.databaseUrl], {
    cwd: options.cwd,
    env: { ...process.env, TRIBUTARY_LOG_LEVEL: options.logLevel ?? 'info', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > KEPT_OUTPUT_CHARS * 2) output = output.slice(-KEPT_OUTPUT_CHARS);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );
  const tail = (): string => output.slice(-KEPT_OUTPUT_CHARS);
  return {
    child,
    output: tail,
    alive: () => running,
    exited,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      try {
        return await eventually(
          async () => {
            const found = pattern.exec(output);
            if (found) return found;
            if (!running) throw new Error(`exited before printing ${pattern}`);
            return undefined;
          },
          timeoutMs,
          `tributary ${args.join(' ')} to print ${pattern}`,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- output ---\n${tail().slice(-8000)}`);
      }
    },
    stop: async (graceMs = 15_000) => {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A throwaway project: its directory, DAG folder and `tributary.config.json`, removed by `remove()`. */
export interface TempProject {
  /** The project directory (the processes' working directory). */
  dir: string;
  /** Its DAG folder, `<dir>/dags`. */
  dagsDir: string;
  /** Write a DAG folder file atomically (a dot-file renamed into place, as a deploy would), returning its path. */
  writeDag(name: string, source: string | Buffer): string;
  remove(): void;
}

/**
 * A project directory inside the package (so DAG files resolve `@tributary/engine`) with engine
 * options in its `tributary.config.json` and DAG files in `dags/`.
 */
export function tempProject(config: EngineConfig, dags: Record<string, string> = {}): TempProject {
  const folder = tempDagFolder({ 'tributary.config.json': JSON.stringify({ dagsFolders: ['dags'], ...config }, null, 2), 'dags/.keep': '' });
  const dagsDir = join(folder.dir, 'dags');
  const writeDag = (name: string, source: string | Buffer): string => {
    const temporary = folder.write(`dags/.tmp-${name}`, '');
    writeFileSync(temporary, source);
    const path = join(dagsDir, name);
    // rename(2) replaces in one step: the processor never sees half a file.
    renameSync(temporary, path);
    return path;
  };
  for (const [name, source] of Object.entries(dags)) writeDag(name, source);
  return { dir: folder.dir, dagsDir, writeDag, remove: folder.remove };
}
