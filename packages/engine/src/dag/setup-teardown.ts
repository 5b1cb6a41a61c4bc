import { relatives, type TaskGraphView } from './graph-view.js';

/**
 * The tasks whose states decide a run's outcome (Airflow's effective leaves): tasks whose downstream
 * tasks are all teardowns that do not fail the run, leaving out such teardowns themselves. A DAG made
 * only of teardowns falls back to its plain leaves.
 */
export function effectiveLeaves(tasks: TaskGraphView): string[] {
  const ignorable = (id: string): boolean => {
    const task = tasks.get(id)!;
    return task.isTeardown && !task.failRunOnFailure;
  };
  const leaves = [...tasks.keys()].filter((id) => !ignorable(id) && tasks.get(id)!.downstream.every(ignorable));
  return leaves.length > 0 ? leaves : [...tasks.keys()].filter((id) => tasks.get(id)!.downstream.length === 0);
}

/**
 * The setups in scope of a task and their teardowns (Airflow's `get_upstreams_only_setups_and_teardowns`):
 * setups upstream of it that have no teardown, or one downstream of it.
 */
export function relevantSetupsAndTeardowns(tasks: TaskGraphView, taskId: string): { setups: string[]; teardowns: string[] } {
  const below = relatives(tasks, [taskId], 'downstream');
  const setups: string[] = [];
  const teardowns = new Set<string>();
  for (const id of relatives(tasks, [taskId], 'upstream')) {
    const task = tasks.get(id)!;
    if (!task.isSetup) continue;
    const own = task.downstream.filter((d) => tasks.get(d)!.isTeardown);
    if (own.length > 0 && !own.some((t) => below.has(t))) continue;
    setups.push(id);
    for (const t of own) if (t !== taskId) teardowns.add(t);
  }
  return { setups, teardowns: [...teardowns] };
}

/**
 * The setups a task must wait for beyond its direct upstream tasks: relevant setups that are not
 * direct upstream tasks. Teardowns and setups wait for none (their own upstream covers them).
 */
export function indirectSetups(tasks: TaskGraphView, taskId: string): string[] {
  const task = tasks.get(taskId)!;
  if (task.isTeardown) return [];
  const direct = new Set(task.upstream);
  return relevantSetupsAndTeardowns(tasks, taskId).setups.filter((id) => !direct.has(id));
}

/**
 * Add to a selection of tasks to clear what Airflow clears with them: for each task, the setups in
 * its scope and their teardowns (unless upstream tasks are cleared too, which covers the setups, in
 * which case the teardowns of those setups are added); for a setup, its teardowns.
 */
export function withSetupsAndTeardowns(tasks: TaskGraphView, selected: Iterable<string>, upstreamIncluded: boolean): Set<string> {
  const result = new Set(selected);
  for (const id of [...result]) {
    const task = tasks.get(id)!;
    if (!task.isSetup) {
      const { setups, teardowns } = relevantSetupsAndTeardowns(tasks, id);
      if (!upstreamIncluded) for (const s of setups) result.add(s);
      for (const t of teardowns) result.add(t);
    } else {
      for (const d of task.downstream) if (tasks.get(d)!.isTeardown) result.add(d);
    }
  }
  if (upstreamIncluded) {
    for (const id of [...result]) {
      if (!tasks.get(id)!.isSetup) continue;
      for (const d of tasks.get(id)!.downstream) if (tasks.get(d)!.isTeardown) result.add(d);
    }
  }
  return result;
}
