import { describe, expect, it } from 'vitest';
import { dag } from './dag.js';
import { TaskMappingError, checkMapLength, mapLength, mappedArgsAt, resolveExpandValues } from './mapping.js';
import { serializeDag } from './serialize.js';

const where = { dagId: 'd', taskId: 't' };

describe('mapping inputs', () => {
  it('numbers instances over the product of the lists, the last list varying fastest', () => {
    const values = resolveExpandValues(where, [{ name: 'a', values: [1, 2] }, { name: 'b', upstream: 'up' }], { up: ['x', 'y', 'z'] });
    expect(mapLength(values)).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((i) => mappedArgsAt(where, values, i))).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' },
      { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
    expect(() => mappedArgsAt(where, values, 6)).toThrow("instance 6 has no input: the expand input now has 6 element(s)");
  });

  it('rejects an upstream result that is not a list, naming the argument and the upstream task', () => {
    expect(() => resolveExpandValues(where, [{ name: 'file', upstream: 'list_files' }], { list_files: { a: 1 } })).toThrow(
      "DAG 'd': task 't': expand 'file' maps over the result of task 'list_files', which must be an array, got object",
    );
    expect(() => resolveExpandValues(where, [{ name: 'file', upstream: 'list_files' }], {})).toThrow('got no result');
  });

  it('checks the length against the cap, saying whose cap it is', () => {
    expect(() => checkMapLength(where, 3, 3, 'engine')).not.toThrow();
    expect(() => checkMapLength(where, 4, 3, 'task')).toThrow(TaskMappingError);
    expect(() => checkMapLength(where, 4, 3, 'task')).toThrow("DAG 'd': task 't': cannot expand into 4 instances: over the map length cap of 3 (the task's maxMapLength option)");
  });
});

describe('defining mapped tasks', () => {
  it('serializes literal and upstream inputs, adding upstream inputs as dependencies', () => {
    const d = dag({ id: 'm' });
    const list = d.task('list', () => [1, 2]);
    d.task('mapped', { args: { fixed: true }, expand: { a: ['x'], b: list }, maxMapLength: 10 }, ({ args }) => args.b);
    const mapped = serializeDag(d).tasks.find((t) => t.taskId === 'mapped')!;
    expect(mapped).toMatchObject({
      upstream: ['list'],
      args: { fixed: true },
      expand: [{ name: 'a', values: ['x'] }, { name: 'b', upstream: 'list' }],
      maxMapLength: 10,
    });
  });

  it.each([
    [{ expand: {} }, "option 'expand': expected an object mapping argument names to lists or upstream task refs"],
    [{ expand: { a: 'abc' } }, "option 'expand.a': expected a list or an upstream task ref, got string"],
    [{ args: { a: 1 }, expand: { a: [1] } }, "option 'expand.a': 'a' is also a fixed argument"],
    [{ maxMapLength: 5 }, "option 'maxMapLength': is only for mapped tasks"],
    [{ expand: { a: [1] }, maxMapLength: 0 }, "option 'maxMapLength': expected an integer >= 1, got 0"],
    [{ expand: { a: [1, 2, 3], b: [1, 2] }, maxMapLength: 5 }, "option 'expand': cannot expand into 6 instances: over the map length cap of 5"],
    [{ args: [1] }, "option 'args': expected an object of arguments"],
  ])('rejects %j with an error naming the DAG, task and option', (options, message) => {
    const d = dag({ id: 'd' });
    expect(() => d.task('t', options as never, () => 1)).toThrow(`DAG 'd': task 't': ${message}`);
  });

  it('rejects args on an operator task and mapping a branch', () => {
    const d = dag({ id: 'd' });
    expect(() => d.task('op', { operator: 'x.y', args: {} }, { args: { a: 1 } } as never)).toThrow("option 'args': is for function tasks");
    expect(() => d.branch('b', { expand: { a: [1] } } as never, () => null)).toThrow("option 'expand': a branch or short-circuit task cannot be mapped");
  });
});
