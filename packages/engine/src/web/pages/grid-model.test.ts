import { describe, expect, it } from 'vitest';
import type { GridCellRow } from '../../service/grid.js';
import { allGroups, buildGridRows, type GridTask } from './grid-model.js';

const tasks: GridTask[] = [
  { taskId: 'start', group: null, mapped: false },
  { taskId: 'extract.download', group: 'extract', mapped: false },
  { taskId: 'extract.clean.trim', group: 'extract.clean', mapped: false },
  { taskId: 'fan', group: null, mapped: true },
  { taskId: 'extract.unzip', group: 'extract', mapped: false },
];

const cell = (runPk: number, taskId: string, state: GridCellRow['state'], count = 1, extra: Partial<GridCellRow> = {}): GridCellRow => ({
  runPk, taskId, state, count, tries: 1, mapped: false, ...extra,
});

describe('grid rows', () => {
  it('puts tasks under their nested groups in declaration order, with short labels and depths', () => {
    const rows = buildGridRows(tasks, [], [], new Set(['extract', 'extract.clean']));
    expect(rows.map((r) => [r.kind, r.id, r.label, r.depth, r.hidden])).toEqual([
      ['task', 'start', 'start', 0, false],
      ['group', 'extract', 'extract', 0, false],
      ['task', 'extract.download', 'download', 1, false],
      ['group', 'extract.clean', 'clean', 1, false],
      ['task', 'extract.clean.trim', 'trim', 2, false],
      ['task', 'extract.unzip', 'unzip', 1, false],
      ['task', 'fan', 'fan', 0, false],
    ]);
  });

  it('hides the rows of collapsed groups, nested ones included', () => {
    const rows = buildGridRows(tasks, [], [], new Set(['extract.clean']));
    expect(rows.filter((r) => r.hidden).map((r) => r.id)).toEqual(['extract.download', 'extract.clean', 'extract.clean.trim', 'extract.unzip']);
  });

  it('colours a group per run by the state of its tasks that needs attention first', () => {
    const rows = buildGridRows(tasks, [1, 2], [
      cell(1, 'extract.download', 'success'),
      cell(1, 'extract.clean.trim', 'failed'),
      cell(1, 'extract.unzip', 'upstream_failed'),
      cell(2, 'extract.download', 'success'),
      cell(2, 'extract.clean.trim', 'running'),
    ], new Set());
    const group = rows.find((r) => r.id === 'extract')!;
    expect(group.cells.map((c) => c.state)).toEqual(['failed', 'running']);
    expect(group.cells[0]!.counts).toEqual({ success: 1, failed: 1, upstream_failed: 1 });
    expect(rows.find((r) => r.id === 'start')!.cells).toEqual([{ state: null, counts: null, retried: false }, { state: null, counts: null, retried: false }]);
  });

  it('summarizes a mapped task over its instances and remembers the largest expansion', () => {
    const rows = buildGridRows(tasks, [7], [
      cell(7, 'fan', 'success', 8, { mapped: true }),
      cell(7, 'fan', 'failed', 2, { mapped: true, tries: 2 }),
    ], new Set());
    const fan = rows.find((r) => r.id === 'fan')!;
    expect(fan).toMatchObject({ mapped: true, mapSize: 10 });
    expect(fan.cells[0]).toEqual({ state: 'failed', counts: { success: 8, failed: 2 }, retried: true });
  });

  it('keeps tasks older runs have that the latest version dropped, marked removed, after the others', () => {
    const rows = buildGridRows(tasks, [1], [cell(1, 'old_task', 'success'), cell(1, 'start', null)], new Set());
    expect(rows.at(-1)).toMatchObject({ id: 'old_task', removed: true, cells: [{ state: 'success' }] });
    expect(rows[0]!.cells[0]!.state).toBe('none');
  });

  it('lists every group with its parents', () => {
    expect(allGroups(tasks).sort()).toEqual(['extract', 'extract.clean']);
  });
});
