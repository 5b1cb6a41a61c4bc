/**
 * Built-in operators for DAG files: `command` runs a program on the worker, `kubernetesPod` runs a
 * container in its own Kubernetes pod. Each returns a task spec for `Dag.task(id, spec, options)`.
 * @packageDocumentation
 */
import type { OperatorSpec } from '../dag/types.js';
import { TributaryError } from '../errors.js';
import { validateCommandArgs, type CommandArgs } from '../executor/command-options.js';
import { parseKubernetesPodArgs, type KubernetesPodArgs } from '../executor/kubernetes-options.js';

export type { CommandArgs } from '../executor/command-options.js';
export type { KubernetesPodArgs, PodEnvFrom, PodEnvValue, PodOnFinish, PodOptions } from '../executor/kubernetes-options.js';

function invalid(operator: string, problem: { path: string; message: string }): never {
  throw new TributaryError('OPERATOR_ARGS_INVALID', `${operator}(): ${problem.path ? `option '${problem.path}': ` : ''}${problem.message}`, {
    location: problem.path ? { field: problem.path } : {},
  });
}

/**
 * Run a program on the worker (no shell unless `shell` is set); its output goes to the task log line
 * by line and, by default, its last line of stdout is the task's result.
 *
 * @example
 * ```ts
 * import { command } from '@tributary/engine/operators';
 * etl.task('export', command({ command: 'pg_dump', args: ['--table', 'listings', 'deals'], result: 'none' }), { retries: 2 });
 * ```
 */
export function command<R = string | undefined>(args: CommandArgs): OperatorSpec<R> {
  const problem = validateCommandArgs(args);
  if (problem) invalid('command', problem);
  return { operator: 'tributary.command', args };
}

/**
 * Run a container in its own Kubernetes pod; its log goes to the task log while it runs and the JSON
 * it writes to `/dev/termination-log` is the task's result.
 *
 * @example
 * ```ts
 * import { kubernetesPod } from '@tributary/engine/operators';
 * deals.task('score', kubernetesPod({ image: 'registry.example.com/scoring:1.4', args: ['--county', 'king'],
 *   resources: { requests: { cpu: '1', memory: '2Gi' } } }), { executionTimeout: '30m' });
 * ```
 */
export function kubernetesPod<R = unknown>(args: KubernetesPodArgs): OperatorSpec<R> {
  const parsed = parseKubernetesPodArgs(args);
  if ('problem' in parsed) invalid('kubernetesPod', parsed.problem);
  return { operator: 'tributary.kubernetesPod', args };
}
