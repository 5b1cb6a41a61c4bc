import type { SerializedTask } from './types.js';

/** The parts of a DAG's serialized tasks that graph questions need, by task id. */
export type TaskGraphView = ReadonlyMap<
  string,
  Pick<SerializedTask, 'upstream' | 'downstream' | 'group' | 'isSetup' | 'isTeardown' | 'failRunOnFailure'>
>;

/** Every task reachable from `start` following `direction` edges (not including `start` itself). */
export function relatives(tasks: TaskGraphView, start: Iterable<string>, direction: 'upstream' | 'downstream'): Set<string> {
  const found = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    for (const next of tasks.get(stack.pop()!)?.[direction] ?? []) {
      if (!found.has(next)) {
        found.add(next);
        stack.push(next);
      }
    }
  }
  return found;
}

/** True when `taskGroup` is `groupId` or nested in it. */
export function inGroup(taskGroup: string | null, groupId: string): boolean {
  return taskGroup !== null && (taskGroup === groupId || taskGroup.startsWith(`${groupId}.`));
}

/** Every group id of a DAG, including parents of nested groups (`a.b` implies `a`). */
export function groupIds(tasks: TaskGraphView): Set<string> {
  const ids = new Set<string>();
  for (const task of tasks.values()) {
    if (task.group === null) continue;
    const parts = task.group.split('.');
    for (let i = 1; i <= parts.length; i++) ids.add(parts.slice(0, i).join('.'));
  }
  return ids;
}

/** The tasks of a group (nested groups included) with no upstream task inside the group. */
export function groupRoots(tasks: TaskGraphView, groupId: string): string[] {
  const roots: string[] = [];
  for (const [id, task] of tasks) {
    if (!inGroup(task.group, groupId)) continue;
    if (!task.upstream.some((up) => inGroup(tasks.get(up)?.group ?? null, groupId))) roots.push(id);
  }
  return roots;
}

/** The tasks of a group (nested groups included) with no downstream task inside the group. */
export function groupLeaves(tasks: TaskGraphView, groupId: string): string[] {
  const leaves: string[] = [];
  for (const [id, task] of tasks) {
    if (!inGroup(task.group, groupId)) continue;
    if (!task.downstream.some((down) => inGroup(tasks.get(down)?.group ?? null, groupId))) leaves.push(id);
  }
  return leaves;
}
