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

const EMPTY: GridCell = Object.freeze({ state: null, counts: null, retried: false }) as GridCell;
const STATES = STATE_PRIORITY.length;
const PRIORITY = new Map<string, number>(STATE_PRIORITY.map((s, i) => [s, i]));
// The cell of a single, unmapped instance is one of few values: share them (a page has up to
// tens of thousands of cells).
const SINGLE: GridCell[][] = STATE_PRIORITY.map((state) => [false, true].map((retried) => Object.freeze({ state, counts: null, retried }) as GridCell));

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

/** Counts by state (indexes into STATE_PRIORITY) of the instances of one task in each run. */
interface TaskCells {
  /** counts[col * STATES + stateIndex] */
  counts: Int32Array;
  /** Per column: how many distinct states, and whether some instance was retried. */
  kinds: Uint8Array;
  retried: Uint8Array;
  mapped: boolean;
  mapSize: number;
}

function countsRecord(counts: Int32Array, col: number): Partial<Record<TaskState | 'none', number>> {
  const out: Partial<Record<TaskState | 'none', number>> = {};
  for (let i = 0; i < STATES; i++) {
    const n = counts[col * STATES + i]!;
    if (n > 0) out[STATE_PRIORITY[i]!] = n;
  }
  return out;
}

function firstState(counts: Int32Array, col: number): number {
  for (let i = 0; i < STATES; i++) if (counts[col * STATES + i]! > 0) return i;
  return -1;
}

/**
 * The rows of a DAG's grid: tasks of its latest version in declaration order under their (nested)
 * groups, then tasks older runs have that the latest version dropped. A group row shows, per run,
 * the state that needs attention first among its tasks; a mapped task the same over its instances.
 * Rows inside a group that is not in `open` are hidden.
 */
export function buildGridRows(tasks: readonly GridTask[], runPks: readonly number[], cellRows: readonly GridCellRow[], open: ReadonlySet<string>): GridRow[] {
  const runs = runPks.length;
  const column = new Map(runPks.map((pk, i) => [pk, i]));
  const byTask = new Map<string, TaskCells>();
  for (const cell of cellRows) {
    const col = column.get(cell.runPk);
    if (col === undefined) continue;
    let t = byTask.get(cell.taskId);
    if (!t) byTask.set(cell.taskId, (t = { counts: new Int32Array(runs * STATES), kinds: new Uint8Array(runs), retried: new Uint8Array(runs), mapped: false, mapSize: 0 }));
    const index = PRIORITY.get(cell.state ?? 'none') ?? PRIORITY.get('none')!;
    if (t.counts[col * STATES + index] === 0) t.kinds[col]!++;
    t.counts[col * STATES + index]! += cell.count;
    if (cell.tries > 1) t.retried[col] = 1;
    if (cell.mapped) t.mapped = true;
  }
  for (const t of byTask.values()) {
    if (!t.mapped) continue;
    for (let col = 0; col < runs; col++) {
      let n = 0;
      for (let i = 0; i < STATES; i++) n += t.counts[col * STATES + i]!;
      t.mapSize = Math.max(t.mapSize, n);
    }
  }
  const known = new Set(tasks.map((t) => t.taskId));
  const removed = [...byTask.keys()].filter((id) => !known.has(id)).sort();
  const tree = [...buildTree(tasks), ...removed.map((id): Node => ({ kind: 'task', id, children: [], task: { taskId: id, group: null, mapped: byTask.get(id)!.mapped } }))];

  const rows: GridRow[] = [];
  // Walk the tree, adding each task's counts into the totals of every group around it.
  const walk = (node: Node, depth: number, parent: string | null, hidden: boolean, totals: Int32Array[]): void => {
    if (node.kind === 'task') {
      const t = byTask.get(node.id);
      const mapped = Boolean(node.task?.mapped) || Boolean(t?.mapped);
      const cells: GridCell[] = new Array(runs);
      for (let col = 0; col < runs; col++) {
        const kinds = t?.kinds[col] ?? 0;
        if (!t || kinds === 0) {
          cells[col] = EMPTY;
          continue;
        }
        const first = firstState(t.counts, col);
        const retried = t.retried[col] === 1;
        cells[col] = mapped || kinds > 1 ? { state: STATE_PRIORITY[first]!, counts: countsRecord(t.counts, col), retried } : SINGLE[first]![retried ? 1 : 0]!;
        for (const sum of totals) for (let i = 0; i < STATES; i++) sum[col * STATES + i]! += t.counts[col * STATES + i]!;
      }
      rows.push({ kind: 'task', id: node.id, label: shortName(node.id, parent), depth, hidden, open: false, mapped, mapSize: t?.mapSize ?? 0, removed: !known.has(node.id), cells });
      return;
    }
    const isOpen = open.has(node.id);
    const row: GridRow = { kind: 'group', id: node.id, label: shortName(node.id, parent), depth, hidden, open: isOpen, mapped: false, mapSize: 0, removed: false, cells: [] };
    rows.push(row);
    const sum = new Int32Array(runs * STATES);
    for (const child of node.children) walk(child, depth + 1, node.id, hidden || !isOpen, [...totals, sum]);
    row.cells = runPks.map((_, col) => {
      const first = firstState(sum, col);
      return first < 0 ? EMPTY : { state: STATE_PRIORITY[first]!, counts: countsRecord(sum, col), retried: false };
    });
  };
  for (const node of tree) walk(node, 0, null, false, []);
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
