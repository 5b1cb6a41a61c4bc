import type { TaskState } from '../../db/schema.js';
import type { GridCellRow } from '../../service/grid.js';
import { STATE_PRIORITY } from './format.js';

/** What the grid needs of a task of the DAG's latest version. */
export interface GridTask {
  taskId: string;
  group: string | null;
  /** Declared with `expand` (mapped), even before it expands. */
  mapped: boolean;
}

/** One cell: the (summary) state of a task or group in one run. */
export interface GridCell {
  /** `none` for an instance with no state yet; null when the run has no instance of the task. */
  state: TaskState | 'none' | null;
  /** Instances by state, for mapped tasks and groups (tooltips). */
  counts: Partial<Record<TaskState | 'none', number>> | null;
  /** Retried or cleared: some instance is past its first try. */
  retried: boolean;
}

/** A row of the grid: a task group (collapsible) or a task. */
export interface GridRow {
  kind: 'group' | 'task';
  /** Task id, or group id (`extract`, `transform.clean`). */
  id: string;
  /** The name within its group (`download` for `extract.download`). */
  label: string;
  depth: number;
  /** Hidden because an enclosing group is collapsed. */
  hidden: boolean;
  /** For groups: whether it is expanded. */
  open: boolean;
  mapped: boolean;
  /** Most instances of this mapped task in a shown run. */
  mapSize: number;
  /** Task id not in the DAG's latest version (it was removed; older runs still have it). */
  removed: boolean;
  cells: GridCell[];
}

interface Node {
  kind: 'group' | 'task';
  id: string;
  children: Node[];
  task?: GridTask;
}

const EMPTY: GridCell = { state: null, counts: null, retried: false };

function shortName(id: string, parent: string | null): string {
  return parent && id.startsWith(`${parent}.`) ? id.slice(parent.length + 1) : id;
}

/** The task tree in declaration order: groups appear where their first task does. */
function buildTree(tasks: readonly GridTask[]): Node[] {
  const roots: Node[] = [];
  const groups = new Map<string, Node>();
  const groupNode = (id: string): Node => {
    let node = groups.get(id);
    if (!node) {
      node = { kind: 'group', id, children: [] };
      groups.set(id, node);
      const dot = id.lastIndexOf('.');
      (dot < 0 ? roots : groupNode(id.slice(0, dot)).children).push(node);
    }
    return node;
  };
  for (const task of tasks) {
    (task.group === null ? roots : groupNode(task.group).children).push({ kind: 'task', id: task.taskId, children: [], task });
  }
  return roots;
}

function addCounts(into: Partial<Record<TaskState | 'none', number>>, from: Partial<Record<TaskState | 'none', number>>): void {
  for (const [state, n] of Object.entries(from) as [TaskState | 'none', number][]) into[state] = (into[state] ?? 0) + n;
}

function summary(counts: Partial<Record<TaskState | 'none', number>>): TaskState | 'none' | null {
  for (const s of STATE_PRIORITY) if ((counts[s] ?? 0) > 0) return s;
  return null;
}

/**
 * The rows of a DAG's grid: tasks of its latest version in declaration order under their (nested)
 * groups, then tasks older runs have that the latest version dropped. A group row shows, per run,
 * the state that needs attention first among its tasks; a mapped task the same over its instances.
 * Rows inside a group that is not in `open` are hidden.
 */
export function buildGridRows(tasks: readonly GridTask[], runPks: readonly number[], cellRows: readonly GridCellRow[], open: ReadonlySet<string>): GridRow[] {
  const column = new Map(runPks.map((pk, i) => [pk, i]));
  // Per task: per run column, counts by state and whether retried.
  const byTask = new Map<string, { counts: Partial<Record<TaskState | 'none', number>>; retried: boolean }[]>();
  const mappedSeen = new Map<string, number>();
  for (const cell of cellRows) {
    const col = column.get(cell.runPk);
    if (col === undefined) continue;
    let cols = byTask.get(cell.taskId);
    if (!cols) byTask.set(cell.taskId, (cols = []));
    const slot = (cols[col] ??= { counts: {}, retried: false });
    const state = cell.state ?? 'none';
    slot.counts[state] = (slot.counts[state] ?? 0) + cell.count;
    if (cell.tries > 1) slot.retried = true;
    if (cell.mapped) {
      const n = Object.values(slot.counts).reduce((a, b) => a + (b ?? 0), 0);
      mappedSeen.set(cell.taskId, Math.max(mappedSeen.get(cell.taskId) ?? 0, n));
    }
  }
  const known = new Set(tasks.map((t) => t.taskId));
  const removed = [...byTask.keys()].filter((id) => !known.has(id)).sort();
  const tree = [...buildTree(tasks), ...removed.map((id): Node => ({ kind: 'task', id, children: [], task: { taskId: id, group: null, mapped: mappedSeen.has(id) } }))];

  const rows: GridRow[] = [];
  // Walk the tree; a group's counts are the sum of its descendants', per run.
  const walk = (node: Node, depth: number, parent: string | null, hidden: boolean): Partial<Record<TaskState | 'none', number>>[] => {
    if (node.kind === 'task') {
      const cols = byTask.get(node.id) ?? [];
      const mapped = Boolean(node.task?.mapped) || mappedSeen.has(node.id);
      rows.push({
        kind: 'task',
        id: node.id,
        label: shortName(node.id, parent),
        depth,
        hidden,
        open: false,
        mapped,
        mapSize: mappedSeen.get(node.id) ?? 0,
        removed: !known.has(node.id),
        cells: runPks.map((_, i) => {
          const slot = cols[i];
          if (!slot) return EMPTY;
          return { state: summary(slot.counts), counts: mapped ? slot.counts : null, retried: slot.retried };
        }),
      });
      return runPks.map((_, i) => cols[i]?.counts ?? {});
    }
    const isOpen = open.has(node.id);
    const row: GridRow = { kind: 'group', id: node.id, label: shortName(node.id, parent), depth, hidden, open: isOpen, mapped: false, mapSize: 0, removed: false, cells: [] };
    rows.push(row);
    const totals = runPks.map(() => ({}) as Partial<Record<TaskState | 'none', number>>);
    for (const child of node.children) {
      const counts = walk(child, depth + 1, node.id, hidden || !isOpen);
      counts.forEach((c, i) => addCounts(totals[i]!, c));
    }
    row.cells = totals.map((counts) => {
      const state = summary(counts);
      return state === null ? EMPTY : { state, counts, retried: false };
    });
    return totals;
  };
  for (const node of tree) walk(node, 0, null, false);
  return rows;
}

/** Every group id with its parents (`a.b` gives `a` and `a.b`), for "expand all". */
export function allGroups(tasks: readonly GridTask[]): string[] {
  const ids = new Set<string>();
  for (const t of tasks) {
    if (t.group === null) continue;
    const parts = t.group.split('.');
    for (let i = 1; i <= parts.length; i++) ids.add(parts.slice(0, i).join('.'));
  }
  return [...ids];
}
