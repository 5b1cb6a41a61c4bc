import { TributaryError } from '../errors.js';
import { groupIds, groupRoots, relatives, type TaskGraphView } from './graph-view.js';
import type { GroupRef, SerializedFlow, TaskRef } from './types.js';

/** What a branch task's function may return: the downstream tasks (or groups) to follow. */
export type BranchChoice = string | TaskRef<string, unknown> | GroupRef | readonly (string | TaskRef<string, unknown> | GroupRef)[] | null | undefined;

/** A branch task returned something that is not one of its downstream tasks or groups. */
export class BranchChoiceError extends TributaryError {
  constructor(dagId: string, taskId: string, message: string) {
    super('BRANCH_CHOICE_INVALID', `DAG '${dagId}': branch '${taskId}' ${message}`, { location: { dagId, taskId } });
  }
}

function choiceIds(choice: unknown, fail: (message: string) => never): string[] {
  if (choice === null || choice === undefined) return [];
  const items = Array.isArray(choice) ? (choice as unknown[]) : [choice];
  return items.map((item) => {
    if (typeof item === 'string') return item;
    if (item !== null && typeof item === 'object' && typeof (item as TaskRef).id === 'string') return (item as TaskRef).id;
    return fail(`returned ${JSON.stringify(item)}: expected task ids, group ids, task or group refs, a list of them, or null`);
  });
}

/**
 * The tasks a flow-control task skips after it succeeded with `result`, and the result to store (a
 * branch's: the ids it chose), as Airflow decides:
 *
 * - a branch follows the tasks (and groups' root tasks) it returned and everything downstream of
 *   them; its other direct downstream tasks are skipped. Returning nothing skips them all.
 * - a short-circuit task whose result is falsy skips every task downstream of it (whatever their
 *   trigger rules) or, with `ignoreDownstreamTriggerRules: false`, only its direct downstream tasks
 *   (the rest then follow their trigger rules).
 *
 * Throws {@link BranchChoiceError} for a branch choice that is not a direct downstream task or group.
 */
export function skippedByFlow(
  tasks: TaskGraphView,
  where: { dagId: string; taskId: string },
  flow: SerializedFlow,
  result: unknown,
): { skip: string[]; result: unknown } {
  const task = tasks.get(where.taskId)!;
  if (flow.kind === 'short_circuit') {
    if (result) return { skip: [], result };
    const skip = flow.ignoreDownstreamTriggerRules ? [...relatives(tasks, [where.taskId], 'downstream')] : [...task.downstream];
    return { skip, result };
  }
  const fail = (message: string): never => {
    throw new BranchChoiceError(where.dagId, where.taskId, message);
  };
  const direct = new Set(task.downstream);
  const groups = groupIds(tasks);
  const chosen = new Set<string>();
  const ids = choiceIds(result, fail);
  for (const id of ids) {
    const targets = tasks.has(id) ? [id] : groups.has(id) ? groupRoots(tasks, id) : null;
    if (targets === null) {
      fail(`returned '${id}', which is not a task or group of the DAG (its downstream tasks: ${[...direct].join(', ') || 'none'})`);
    }
    const followed = targets!.filter((t) => direct.has(t));
    if (followed.length === 0) {
      fail(`returned '${id}', which is not directly downstream of it (its downstream tasks: ${[...direct].join(', ') || 'none'})`);
    }
    for (const t of followed) chosen.add(t);
  }
  const following = new Set([...chosen, ...relatives(tasks, chosen, 'downstream')]);
  return { skip: task.downstream.filter((id) => !following.has(id)), result: ids };
}

/** XCom key under which a flow-control task's decision (`{ skip: taskIds }`) is stored with its result. */
export const SKIP_DECISION_KEY = 'skip_decision';
