import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { durationToMs } from '../dag/duration.js';
import type { TaskContext } from '../dag/types.js';
import { CommandFailedError, SkipTaskError, TributaryError } from '../errors.js';
import { DEFAULT_SKIP_EXIT_CODES, commandArgsSchema, type CommandArgs } from './command-options.js';
import { firstProblem } from './kubernetes-options.js';

// Process groups started by this process, killed on exit so none outlives a worker that exits.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The `command` operator: run a program (no shell unless asked) in its own process group, stream its
 * stdout (info) and stderr (warn) into the task log line by line, and end the whole group on timeout
 * or kill (SIGTERM, then SIGKILL after the grace period). See {@link CommandArgs}.
 */
export async function runCommand(raw: unknown, context: TaskContext): Promise<unknown> {
  const parsed = commandArgsSchema.safeParse(raw);
  if (!parsed.success) {
    const { path, message } = firstProblem(parsed.error);
    throw new TributaryError('OPERATOR_ARGS_INVALID', `DAG '${context.dagId}': task '${context.taskId}': command: ${path ? `option '${path}': ` : ''}${message}`, {
      location: { dagId: context.dagId, taskId: context.taskId, field: path || undefined },
    });
  }
  const args = parsed.data as CommandArgs;
  const { log, signal } = context;
  if (args.cwd && !(existsSync(args.cwd) && statSync(args.cwd).isDirectory())) {
    throw new TributaryError('COMMAND_CWD_MISSING', `DAG '${context.dagId}': task '${context.taskId}': command: working directory '${args.cwd}' does not exist`);
  }
  const shell = args.shell === true ? '/bin/sh' : args.shell || null;
  const file = shell ?? args.command;
  const argv = shell ? ['-c', args.command, shell, ...(args.args ?? [])] : (args.args ?? []);
  const display = shell ? `${shell} -c ${quote(args.command)}` : [args.command, ...argv].map(quote).join(' ');
  const graceMs = args.killGracePeriod === undefined ? 5_000 : (durationToMs(args.killGracePeriod) as number);
  const skipCodes = args.skipExitCodes ?? DEFAULT_SKIP_EXIT_CODES;
  const tailSize = args.errorLines ?? 20;
  const env: NodeJS.ProcessEnv = {
    ...(args.inheritEnv === false ? {} : process.env),
    TRIBUTARY_DAG_ID: context.dagId,
    TRIBUTARY_RUN_ID: context.runId,
    TRIBUTARY_TASK_ID: context.taskId,
    TRIBUTARY_MAP_INDEX: String(context.mapIndex),
    TRIBUTARY_TRY_NUMBER: String(context.tryNumber),
    TRIBUTARY_LOGICAL_DATE: context.logicalDate.toISOString(),
    ...args.env,
  };
  if (signal.aborted) throw signal.reason;

  log.info(`Running: ${display}`);
  const child = spawn(file, argv, { cwd: args.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let lastStdout: string | undefined;
  const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
    if (stream === 'stdout') {
      log.info(line);
      if (line.trim() !== '') lastStdout = line;
    } else log.warn(line);
    tail.push(line);
    if (tail.length > tailSize) tail.shift();
  };
  const closed = Promise.all(
    (['stdout', 'stderr'] as const).map(
      (stream) =>
        new Promise<void>((resolve) => {
          const lines = createInterface({ input: child[stream], crlfDelay: Infinity });
          lines.on('line', onLine(stream));
          lines.on('close', resolve);
        }),
    ),
  );

  let killTimer: NodeJS.Timeout | undefined;
  // SIGTERM to the whole group now, SIGKILL to what is left after the grace period.
  const terminateGroup = (): void => {
    const pid = child.pid;
    if (!pid || !killGroup(pid, 'SIGTERM')) {
      if (pid) liveGroups.delete(pid);
      return;
    }
    killTimer ??= setTimeout(() => {
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    }, graceMs).unref();
  };
  const onAbort = (): void => {
    log.warn(`Stopping the command (${(signal.reason as Error)?.message ?? 'aborted'}): SIGTERM to its process group, SIGKILL after ${graceMs} ms`);
    terminateGroup();
  };
  // Listen from the start: Node may emit 'spawn' after the command has already run for a while (and
  // after a timeout fired), and child.pid is known as soon as spawn() returns.
  if (child.pid) trackGroup(child.pid);
  signal.addEventListener('abort', onAbort, { once: true });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      reject(
        error.code === 'ENOENT'
          ? new TributaryError('COMMAND_NOT_FOUND', `DAG '${context.dagId}': task '${context.taskId}': command '${file}' not found: is it installed and on PATH?`, { cause: error })
          : new TributaryError('COMMAND_START_FAILED', `DAG '${context.dagId}': task '${context.taskId}': command '${file}' could not start: ${error.message}`, { cause: error }),
      );
    });
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
  }).finally(() => signal.removeEventListener('abort', onAbort));

  // Whatever the command left running in its group (background jobs) ends with it.
  if (!signal.aborted) terminateGroup();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, graceMs + 1_000).unref())]);
  if (signal.aborted) throw signal.reason;

  if (exit.code !== null && skipCodes.includes(exit.code)) {
    throw new SkipTaskError(`command exited with code ${exit.code}, one of its skip exit codes (${skipCodes.join(', ')})`);
  }
  if (exit.code !== 0) {
    const what = exit.code === null ? `was killed by ${exit.signal}${exit.signal === 'SIGKILL' ? ' (out of memory, or killed from outside?)' : ''}` : `exited with code ${exit.code}`;
    const lines = tail.length ? `\nLast ${tail.length} line(s) of output:\n${tail.map((l) => `  ${l}`).join('\n')}` : ' (it printed nothing)';
    throw new CommandFailedError(`command ${display} ${what}${lines}`, { exitCode: exit.code, signal: exit.signal, lastLines: [...tail] });
  }
  if (args.result === 'none') return undefined;
  if (args.result === 'json') {
    if (lastStdout === undefined) return undefined;
    try {
      return JSON.parse(lastStdout) as unknown;
    } catch (error) {
      throw new TributaryError('COMMAND_RESULT_INVALID', `command ${display}: the last line of stdout is not JSON (${(error as Error).message}): ${lastStdout.slice(0, 200)}`);
    }
  }
  return lastStdout;
}
