import { describe, expect, it } from 'vitest';
import type { SerializedTask } from '../../dag/types.js';
import { cachedLayout, edgePath, layoutDag } from './graph-layout.js';

function task(taskId: string, upstream: string[], group: string | null = null, extra: Partial<SerializedTask> = {}): SerializedTask {
  return { taskId, upstream, downstream: [], group, kind: 'function', operator: null, expand: null, sensor: null, flow: null, isSetup: false, isTeardown: false, ...extra } as SerializedTask;
}

function dag(): SerializedTask[] {
  const tasks = [
    task('start', []),
    task('extract.download', ['start'], 'extract'),
    task('extract.clean.trim', ['extract.download'], 'extract.clean'),
    task('load', ['extract.clean.trim'], null, { kind: 'operator', operator: 'discovery.scrape' }),
  ];
  for (const t of tasks) for (const up of t.upstream) tasks.find((x) => x.taskId === up)!.downstream.push(t.taskId);
  return tasks;
}

const inside = (inner: { x: number; y: number; width: number; height: number }, outer: typeof inner) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

describe('graph layout', () => {
  it('places every task left to right along its edges, on the canvas', () => {
    const g = layoutDag(dag());
    const at = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    expect(at.start!.x).toBeLessThan(at['extract.download']!.x);
    expect(at['extract.download']!.x).toBeLessThan(at.load!.x);
    for (const n of g.nodes) expect(inside(n, { x: 0, y: 0, width: g.width, height: g.height })).toBe(true);
    expect(g.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['extract.clean.trim>load', 'extract.download>extract.clean.trim', 'start>extract.download']);
    expect(at.load!.detail).toBe('discovery.scrape');
    expect(at['extract.clean.trim']!.label).toBe('trim');
  });

  it('draws groups as boxes around their tasks with room for the name above inner groups', () => {
    const g = layoutDag(dag());
    const box = Object.fromEntries(g.groups.map((b) => [b.id, b]));
    expect(g.groups.map((b) => b.id)).toEqual(['extract', 'extract.clean']);
    const at = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    expect(inside(at['extract.download']!, box.extract!)).toBe(true);
    expect(inside(at['extract.clean.trim']!, box['extract.clean']!)).toBe(true);
    expect(inside(box['extract.clean']!, box.extract!)).toBe(true);
    expect(box['extract.clean']!.y - box.extract!.y).toBeGreaterThanOrEqual(18);
    expect(inside(at.start!, box.extract!)).toBe(false);
  });

  it('computes a version once per engine', () => {
    const owner = {};
    const first = cachedLayout(owner, 'v1', dag());
    expect(cachedLayout(owner, 'v1', [])).toBe(first);
    expect(cachedLayout({}, 'v1', [])).not.toBe(first);
  });

  it('draws edges as paths through their points', () => {
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 5 }])).toBe('M0,0 L10,5');
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 10 }])).toBe('M0,0 Q10,0 20,10');
    expect(edgePath([])).toBe('');
  });
});
