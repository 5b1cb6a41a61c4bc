import { mappedArgsAt, resolveExpandValues } from '../dag/mapping.js';
import type { DagStructure, EngineContext } from '../scheduler/context.js';
import { loadTaskResults } from '../scheduler/mapping.js';

/** The arguments of a task instance and where they were read from. */
export interface TaskArguments {
  args: unknown;
  /** `stored`: as the worker recorded them; `definition`: built from the DAG version and upstream results. */
  source: 'stored' | 'definition';
  /** Why a mapped instance's own element could not be found (its input changed since expansion). */
  problem: string | null;
}

/**
 * The arguments a task instance runs with: those its worker stored when it has, else the ones the
 * worker builds — the task's `args` plus, for an instance of a mapped task, its element of each
 * `expand` input (from literal lists or upstream results), as `ctx.args` receives them.
 */
export async function taskInstanceArguments(
  ctx: EngineContext,
  ref: { runPk: number; dagId: string; taskId: string; mapIndex: number; storedArgs: unknown },
  structure: DagStructure,
): Promise<TaskArguments> {
  if (ref.storedArgs !== null && ref.storedArgs !== undefined) return { args: ref.storedArgs, source: 'stored', problem: null };
  const task = structure.tasks.get(ref.taskId);
  if (!task) return { args: null, source: 'definition', problem: null };
  const fixed = (task.args ?? {}) as Record<string, unknown>;
  if (!task.expand || ref.mapIndex < 0) return { args: fixed, source: 'definition', problem: null };
  const where = { dagId: ref.dagId, taskId: ref.taskId };
  try {
    const upstream = await loadTaskResults(ctx.db, ctx.xcom, ref.runPk, task.upstream, structure);
    return { args: { ...fixed, ...mappedArgsAt(where, resolveExpandValues(where, task.expand, upstream), ref.mapIndex) }, source: 'definition', problem: null };
  } catch (error) {
    return { args: fixed, source: 'definition', problem: (error as Error).message };
  }
}
