import { describe, expect, it } from 'vitest';
import { dag } from './dag.js';
import { BranchChoiceError, skippedByFlow } from './flow.js';
import { serializeDag } from './serialize.js';
import { effectiveLeaves, indirectSetups, withSetupsAndTeardowns } from './setup-teardown.js';

function graph(build: (d: ReturnType<typeof dag>) => void) {
  const d = dag({ id: 'g' });
  build(d);
  const serialized = serializeDag(d);
  return { serialized, tasks: new Map(serialized.tasks.map((t) => [t.taskId, t])) };
}

describe('branch decisions', () => {
  const { tasks } = graph((d) => {
    const b = d.branch('b', () => null);
    const x = d.task('x', { upstream: [b] }, () => 1);
    d.task('y', { upstream: [b] }, () => 1);
    d.task('join', { upstream: [b, x], triggerRule: 'none_failed_min_one_success' }, () => 1);
    d.group('grp', { upstream: [b] }, (g) => {
      const one = g.task('one', () => 1);
      g.task('two', { upstream: [one] }, () => 1);
    });
    d.task('far', { upstream: ['y'] }, () => 1);
  });
  const where = { dagId: 'g', taskId: 'b' };
  const branch = { kind: 'branch' } as const;

  it('skips the direct downstream tasks not followed, keeping those downstream of a followed task', () => {
    expect(skippedByFlow(tasks, where, branch, 'x')).toEqual({ skip: ['y', 'grp.one'], result: ['x'] });
    expect(skippedByFlow(tasks, where, branch, ['y', { id: 'x', dagId: 'g' }]).skip).toEqual(['grp.one']);
    expect(skippedByFlow(tasks, where, branch, 'y').skip).toEqual(['x', 'join', 'grp.one']);
    expect(skippedByFlow(tasks, where, branch, null)).toEqual({ skip: ['x', 'y', 'join', 'grp.one'], result: [] });
  });

  it("follows a chosen group's root tasks", () => {
    expect(skippedByFlow(tasks, where, branch, 'grp').skip).toEqual(['x', 'y', 'join']);
  });

  it('rejects choices that are unknown or not directly downstream, listing the downstream tasks', () => {
    expect(() => skippedByFlow(tasks, where, branch, 'z')).toThrow(BranchChoiceError);
    expect(() => skippedByFlow(tasks, where, branch, 'z')).toThrow(
      "DAG 'g': branch 'b' returned 'z', which is not a task or group of the DAG (its downstream tasks: x, y, join, grp.one)",
    );
    expect(() => skippedByFlow(tasks, where, branch, 'far')).toThrow("returned 'far', which is not directly downstream of it");
    expect(() => skippedByFlow(tasks, where, branch, 42)).toThrow('returned 42: expected task ids');
  });

  it('short-circuits all downstream tasks, or only the direct ones', () => {
    const sc = { kind: 'short_circuit', ignoreDownstreamTriggerRules: true } as const;
    expect(skippedByFlow(tasks, where, sc, 'truthy').skip).toEqual([]);
    expect(new Set(skippedByFlow(tasks, where, sc, 0).skip)).toEqual(new Set(['x', 'y', 'join', 'grp.one', 'grp.two', 'far']));
    expect(skippedByFlow(tasks, where, { ...sc, ignoreDownstreamTriggerRules: false }, '').skip).toEqual(['x', 'y', 'join', 'grp.one']);
  });
});

describe('task groups', () => {
  it('prefixes ids, wires the group upstream to its roots and a group ref to its leaves', () => {
    const { tasks } = graph((d) => {
      const start = d.task('start', () => 1);
      const grp = d.group('grp', { upstream: [start], defaultTaskOptions: { retries: 3 } }, (g) => {
        const a = g.task('a', () => 1);
        g.task('b', { upstream: [a] }, () => 1);
        g.task('c', () => 1);
        g.group('inner', (i) => {
          i.task('d', () => 1);
        });
      });
      d.task('end', { upstream: [grp] }, () => 1);
    });
    expect([...tasks.keys()]).toEqual(['start', 'grp.a', 'grp.b', 'grp.c', 'grp.inner.d', 'end']);
    expect(tasks.get('grp.a')!.upstream).toEqual(['start']);
    expect(tasks.get('grp.b')!.upstream).toEqual(['grp.a']);
    expect(tasks.get('grp.inner.d')).toMatchObject({ upstream: ['start'], group: 'grp.inner', retries: 3 });
    expect(tasks.get('end')!.upstream).toEqual(['grp.b', 'grp.c', 'grp.inner.d']);
  });

  it("treats a group's teardown as standing back: the work before it are the leaves", () => {
    const { tasks } = graph((d) => {
      const grp = d.group('grp', (g) => {
        const s = g.task('setup', { setup: true }, () => 1);
        const w = g.task('work', { upstream: [s] }, () => 1);
        g.task('teardown', { upstream: [w], teardown: { setups: [s] } }, () => 1);
      });
      d.task('after', { upstream: [grp] }, () => 1);
    });
    expect(tasks.get('after')!.upstream).toEqual(['grp.work']);
  });

  it('rejects ids shared by a task and a group, and empty groups', () => {
    const d = dag({ id: 'd' });
    d.task('x', () => 1);
    expect(() => d.group('x', (g) => void g.task('y', () => 1))).toThrow("DAG 'd': task 'x': duplicate group id 'x' (a task has this id)");
    d.group('grp', (g) => void g.task('y', () => 1));
    expect(() => d.task('grp', () => 1)).toThrow("duplicate task id 'grp' (a task group has this id)");
    expect(() => d.group('empty', () => {})).toThrow("group 'empty' has no tasks");
  });
});

describe('setup and teardown', () => {
  const { tasks } = graph((d) => {
    const create = d.task('create', { setup: true }, () => 1);
    const load = d.task('load', { upstream: [create] }, () => 1);
    const report = d.task('report', { upstream: [load] }, () => 1);
    d.task('delete', { upstream: [report], teardown: { setups: [create] } }, () => 1);
    d.task('strict_delete', { upstream: [report], teardown: { setups: [create], failRunOnFailure: true } }, () => 1);
  });

  it('gives a teardown the all_done_setup_success rule and its setups as upstream tasks', () => {
    expect(tasks.get('delete')).toMatchObject({ upstream: ['report', 'create'], triggerRule: 'all_done_setup_success', isTeardown: true });
    expect(tasks.get('create')!.isSetup).toBe(true);
  });

  it('leaves ignorable teardowns out of the tasks that decide the run', () => {
    expect(effectiveLeaves(tasks)).toEqual(['strict_delete']);
    const lenient = graph((d) => {
      const c = d.task('c', { setup: true }, () => 1);
      const w = d.task('w', { upstream: [c] }, () => 1);
      d.task('t', { upstream: [w], teardown: { setups: [c] } }, () => 1);
    });
    expect(effectiveLeaves(lenient.tasks)).toEqual(['w']);
  });

  it('makes a task wait for the setups in its scope, and clears them and their teardowns with it', () => {
    expect(indirectSetups(tasks, 'report')).toEqual(['create']);
    expect(indirectSetups(tasks, 'load')).toEqual([]); // a direct upstream already
    expect(indirectSetups(tasks, 'delete')).toEqual([]);
    expect([...withSetupsAndTeardowns(tasks, ['report'], false)].sort()).toEqual(['create', 'delete', 'report', 'strict_delete']);
    expect([...withSetupsAndTeardowns(tasks, ['create'], false)].sort()).toEqual(['create', 'delete', 'strict_delete']);
  });

  it.each([
    [{ setup: true, teardown: true }, "option 'teardown': a task cannot be both a setup and a teardown"],
    [{ teardown: true, triggerRule: 'all_success' }, "option 'triggerRule': a teardown always uses 'all_done_setup_success'"],
    [{ teardown: { setups: ['plain'] } }, "option 'teardown.setups': task 'plain' is not a setup task"],
    [{ setup: true, expand: { a: [1] } }, "option 'setup': setup and teardown tasks cannot be mapped"],
  ])('rejects %j', (options, message) => {
    const d = dag({ id: 'd' });
    d.task('plain', () => 1);
    expect(() => d.task('t', options as never, () => 1)).toThrow(message);
  });
});

describe('latest-only', () => {
  it("is an operator task that skips only its direct downstream tasks, carrying the DAG's schedule", () => {
    const { tasks } = graph((d) => {
      d.latestOnly();
    });
    expect(tasks.get('latest_only')).toMatchObject({
      operator: 'tributary.latestOnly',
      args: { schedule: null, timezone: 'UTC', startDate: null },
      flow: { kind: 'short_circuit', ignoreDownstreamTriggerRules: false },
    });
  });
});
