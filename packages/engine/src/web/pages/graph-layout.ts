import { Graph, layout } from '@dagrejs/dagre';
import type { SerializedTask } from '../../dag/types.js';

/** A laid-out task. */
export interface LaidOutNode {
  id: string;
  /** The name within its group. */
  label: string;
  /** What runs it: `python`-like function, or the operator's name. */
  detail: string;
  group: string | null;
  mapped: boolean;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A laid-out task group (drawn as a box around its tasks). */
export interface LaidOutGroup {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The drawing of a DAG: nodes, group boxes and edges as polylines, in a `width` × `height` canvas. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  groups: LaidOutGroup[];
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
}

const NODE_HEIGHT = 42;
/** Room above a group's tasks for its name. */
const GROUP_LABEL_BAND = 18;
/** Space between a group's box and its tasks. */
const GROUP_PADDING = 10;
const CHAR_WIDTH = 7.2;

/** What kind of task it is, for the second line of its box. */
function nodeDetail(t: SerializedTask): string {
  if (t.kind === 'operator') return t.operator ?? 'operator';
  if (t.sensor) return 'sensor';
  if (t.flow) return t.flow.kind === 'branch' ? 'branch' : 'short-circuit';
  if (t.isSetup) return 'setup';
  if (t.isTeardown) return 'teardown';
  return 'task';
}

function shortName(id: string, group: string | null): string {
  return group && id.startsWith(`${group}.`) ? id.slice(group.length + 1) : id;
}

/**
 * Lay a DAG out left to right with dagre (layered drawing, groups as clusters). Costs tens to
 * hundreds of milliseconds for large DAGs, so callers cache it per DAG version (see {@link cachedLayout}).
 */
export function layoutDag(tasks: readonly SerializedTask[]): GraphLayout {
  const g = new Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 32, ranksep: 44, edgesep: 8, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const groupIds = new Set<string>();
  for (const t of tasks) {
    if (t.group === null) continue;
    const parts = t.group.split('.');
    for (let i = 1; i <= parts.length; i++) groupIds.add(parts.slice(0, i).join('.'));
  }
  for (const id of groupIds) {
    const dot = id.lastIndexOf('.');
    g.setNode(`group:${id}`, { label: id });
    if (dot >= 0) g.setParent(`group:${id}`, `group:${id.slice(0, dot)}`);
  }
  for (const t of tasks) {
    const label = shortName(t.taskId, t.group);
    const width = Math.min(280, Math.max(110, Math.max(label.length + 4, nodeDetail(t).length) * CHAR_WIDTH + 28));
    g.setNode(t.taskId, { width, height: NODE_HEIGHT });
    if (t.group !== null) g.setParent(t.taskId, `group:${t.group}`);
  }
  for (const t of tasks) for (const down of t.downstream) g.setEdge(t.taskId, down);
  layout(g);

  const nodes: LaidOutNode[] = tasks.map((t) => {
    const n = g.node(t.taskId) as { x: number; y: number; width: number; height: number };
    return {
      id: t.taskId,
      label: shortName(t.taskId, t.group),
      detail: nodeDetail(t),
      group: t.group,
      mapped: t.expand !== null,
      x: n.x - n.width / 2,
      y: n.y - n.height / 2,
      width: n.width,
      height: n.height,
    };
  });
  const groups: LaidOutGroup[] = [...groupIds].map((id) => {
    const n = g.node(`group:${id}`) as { x: number; y: number; width: number; height: number };
    const dot = id.lastIndexOf('.');
    return { id, label: dot < 0 ? id : id.slice(dot + 1), x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
  // dagre's cluster boxes are loose and leave no room for a label: box each group tightly around
  // its tasks and inner groups instead, with a band for its name on top. Inner groups first, so
  // outer ones are built around their final boxes.
  groups.sort((a, b) => b.id.split('.').length - a.id.split('.').length);
  for (const group of groups) {
    const parts = [
      ...nodes.filter((n) => n.group === group.id).map((n) => ({ x: n.x - GROUP_PADDING, y: n.y - GROUP_PADDING, r: n.x + n.width + GROUP_PADDING, b: n.y + n.height + GROUP_PADDING })),
      ...groups.filter((o) => o.id.startsWith(`${group.id}.`)).map((o) => ({ x: o.x - 6, y: o.y - 6, r: o.x + o.width + 6, b: o.y + o.height + 6 })),
    ];
    if (parts.length === 0) continue;
    const left = Math.min(...parts.map((p) => p.x));
    const top = Math.min(...parts.map((p) => p.y)) - GROUP_LABEL_BAND;
    Object.assign(group, { x: left, y: top, width: Math.max(...parts.map((p) => p.r)) - left, height: Math.max(...parts.map((p) => p.b)) - top });
  }
  // Outer groups first, so inner boxes are drawn on top of them.
  groups.reverse();
  const edges = g.edges().map((e: { v: string; w: string }) => ({ from: e.v, to: e.w, points: ((g.edge(e) as { points?: { x: number; y: number }[] }).points ?? []).map((p) => ({ x: p.x, y: p.y })) }));
  // The canvas holds everything, grown boxes included (shifted down when a box grew above the top).
  const items = [...nodes, ...groups];
  const minY = Math.min(0, ...items.map((i) => i.y - 8));
  if (minY < 0) {
    for (const i of items) i.y -= minY;
    for (const e of edges) for (const p of e.points) p.y -= minY;
  }
  const width = Math.max(0, ...items.map((i) => i.x + i.width)) + 16;
  const height = Math.max(0, ...items.map((i) => i.y + i.height)) + 16;
  return { width: Math.ceil(width), height: Math.ceil(height), nodes, groups, edges };
}

// Per engine (the same version id means different DAGs in different databases).
const caches = new WeakMap<object, Map<string, GraphLayout>>();
const CACHE_SIZE = 64;

/**
 * {@link layoutDag} of a DAG version, computed once per `versionKey` (a key naming one version, such
 * as its id: versions never change) and kept for the most recently drawn versions of each `owner`
 * (the engine: the same version id names different DAGs in different databases).
 */
export function cachedLayout(owner: object, versionKey: string, tasks: readonly SerializedTask[]): GraphLayout {
  let cache = caches.get(owner);
  if (!cache) caches.set(owner, (cache = new Map()));
  let found = cache.get(versionKey);
  if (found) {
    cache.delete(versionKey);
    cache.set(versionKey, found);
    return found;
  }
  found = layoutDag(tasks);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(versionKey, found);
  return found;
}

/** An SVG path through the points of an edge, with rounded bends. */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  const f = (n: number) => Math.round(n * 10) / 10;
  let d = `M${f(points[0]!.x)},${f(points[0]!.y)}`;
  if (points.length === 2) return `${d} L${f(points[1]!.x)},${f(points[1]!.y)}`;
  // Quadratic curves through midpoints: smooth, and passes near every point dagre routed around nodes.
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!;
    const next = points[i + 1]!;
    const mid = i === points.length - 2 ? next : { x: (p.x + next.x) / 2, y: (p.y + next.y) / 2 };
    d += ` Q${f(p.x)},${f(p.y)} ${f(mid.x)},${f(mid.y)}`;
  }
  return d;
}
