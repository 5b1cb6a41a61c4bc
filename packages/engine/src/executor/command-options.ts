import { z } from 'zod';
import { durationToMs } from '../dag/duration.js';
import type { Duration } from '../dag/types.js';
import { firstProblem, type OptionProblem } from './kubernetes-options.js';

/** Arguments of the `command` operator. */
export interface CommandArgs {
  /** The program to run (found on `PATH` unless a path), or with `shell`, a shell command line. */
  command: string;
  /** Arguments, passed as they are (no shell quoting needed); with `shell`, they become `$1`, `$2`, … */
  args?: string[];
  /**
   * Run `command` through a shell: `true` for `/bin/sh`, or the path of another shell.
   * @defaultValue false
   */
  shell?: boolean | string;
  /** Environment variables to set (on top of the worker's unless `inheritEnv` is false). */
  env?: Record<string, string>;
  /**
   * Start from the worker's environment.
   * @defaultValue true
   */
  inheritEnv?: boolean;
  /** Working directory. @defaultValue the worker's */
  cwd?: string;
  /**
   * Exit codes that end the try as `skipped` instead of failed (Airflow's `skip_on_exit_code`).
   * @defaultValue `[99]`
   */
  skipExitCodes?: number[];
  /**
   * The task's result: the last line printed on stdout (`'lastLine'`), that line parsed as JSON
   * (`'json'`), or nothing.
   * @defaultValue `'lastLine'`
   */
  result?: 'lastLine' | 'json' | 'none';
  /**
   * On timeout or kill, how long the process group has between SIGTERM and SIGKILL.
   * @defaultValue `'5s'`
   */
  killGracePeriod?: Duration;
  /**
   * Lines of output quoted in the error when the command fails.
   * @defaultValue 20
   */
  errorLines?: number;
}

/** Default exit codes meaning "skip", as Airflow's BashOperator. */
export const DEFAULT_SKIP_EXIT_CODES: readonly number[] = Object.freeze([99]);

/** Schema of {@link CommandArgs}. @internal */
export const commandArgsSchema = z
  .object({
    command: z.string().min(1, 'expected a non-empty string'),
    args: z.array(z.string()).optional(),
    shell: z.union([z.boolean(), z.string().min(1)]).optional(),
    env: z.record(z.string(), z.string()).optional(),
    inheritEnv: z.boolean().optional(),
    cwd: z.string().min(1).optional(),
    skipExitCodes: z.array(z.number().int().min(1).max(255)).optional(),
    result: z.enum(['lastLine', 'json', 'none']).optional(),
    killGracePeriod: z.union([z.number(), z.string()]).refine((v) => typeof durationToMs(v) === 'number', 'expected a duration such as 5s').optional(),
    errorLines: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

/** Check `command` arguments; returns the first problem, or null. @internal */
export function validateCommandArgs(value: unknown): OptionProblem | null {
  const parsed = commandArgsSchema.safeParse(value);
  return parsed.success ? null : firstProblem(parsed.error);
}
