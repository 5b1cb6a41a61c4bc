import { describe, expect, it } from 'vitest';
import { DagCycleError, DagDefinitionError } from '../errors.js';
import { dag, isDag } from './dag.js';
import { hashSerializedDag, serializeDag } from './serialize.js';
import { validateDag } from './validate.js';

describe('dag()', () => {
  it('applies documented defaults to the DAG and its tasks', () => {
    const d = dag({ id: 'defaults' });
    const t = d.task('t', () => 1);
    expect(t).toEqual({ id: 't', dagId: 'defaults' });
    expect(d.options).toMatchObject({ schedule: null, timezone: 'UTC', catchup: false, maxActiveRuns: 16, maxActiveTasks: 16 });
    expect(d.tasks.get('t')!.options).toMatchObject({
      retries: 0,
      retryDelayMs: 300_000,
      triggerRule: 'all_success',
      pool: 'default_pool',
      poolSlots: 1,
      maxActiveInstances: null,
      maxActiveInstancesPerRun: null,
      priorityWeight: 1,
      queue: 'default',
      executionTimeoutMs: null,
    });
  });

  it('stores fixed-interval and asset schedules in their serialized form; @continuous defaults to one active run', () => {
    expect(dag({ id: 'e', schedule: { every: '90s' }, startDate: '2024-01-01' }).options.schedule).toEqual({ every: 90_000 });
    expect(dag({ id: 'a', schedule: { assets: ['s3://b/k'] } }).options).toMatchObject({ schedule: { assets: ['s3://b/k'] }, startDate: null });
    expect(dag({ id: 'c', schedule: '@continuous', startDate: '2024-01-01' }).options).toMatchObject({ schedule: '@continuous', maxActiveRuns: 1 });
  });

  it('limits instances of a task per DAG and per run, defaulting to no limit, also from defaultTaskOptions', () => {
    const d = dag({ id: 'limits', defaultTaskOptions: { maxActiveInstances: 4 } });
    d.task('a', () => 1);
    d.task('b', { maxActiveInstances: null, maxActiveInstancesPerRun: 2 }, () => 1);
    expect(d.tasks.get('a')!.options).toMatchObject({ maxActiveInstances: 4, maxActiveInstancesPerRun: null });
    expect(d.tasks.get('b')!.options).toMatchObject({ maxActiveInstances: null, maxActiveInstancesPerRun: 2 });
  });

  it('lets task options override the DAG default task options', () => {
    const d = dag({ id: 'over', defaultTaskOptions: { retries: 3, retryDelay: '10s' } });
    d.task('a', () => 1);
    d.task('b', { retries: 0, executionTimeout: '2m' }, () => 1);
    expect(d.tasks.get('a')!.options).toMatchObject({ retries: 3, retryDelayMs: 10_000 });
    expect(d.tasks.get('b')!.options).toMatchObject({ retries: 0, retryDelayMs: 10_000, executionTimeoutMs: 120_000 });
  });

  it.each([
    [{ id: 'x', schedule: '* * *' }, "DAG 'x': option 'schedule': invalid cron '* * *': expected 5 fields"],
    [{ id: 'x', schedule: '@fortnightly', startDate: '2024-01-01' }, "option 'schedule': unknown preset '@fortnightly'"],
    [{ id: 'x', schedule: '@daily' }, "option 'startDate': is required when a schedule is set"],
    [{ id: 'x', timezone: 'Mars/Olympus' }, "option 'timezone': unknown IANA time zone 'Mars/Olympus'"],
    [{ id: 'x', maxActiveRuns: 0 }, "option 'maxActiveRuns': expected an integer >= 1, got 0"],
    [{ id: 'x', params: { type: 'object', properties: { n: { type: 'integr' } } } }, "option 'params': invalid params schema"],
    [{ id: 'x', startDate: 'yesterday' }, "option 'startDate': expected a Date or an ISO 8601 date string"],
    [{ id: 'x', shedule: '@daily' }, "option 'shedule': unknown option"],
    [{ id: 'bad id!' }, "DAG id 'bad id!' is invalid"],
    [{ id: 'x', schedule: { every: '1h' } }, "option 'startDate': is required when a schedule is set (schedule {\"every\":\"1h\"}"],
    [{ id: 'x', schedule: { every: 'often' }, startDate: '2024-01-01' }, "DAG 'x': option 'schedule': 'every': expected a duration"],
    [{ id: 'x', schedule: '@continuous', startDate: '2024-01-01', maxActiveRuns: 2 }, "option 'maxActiveRuns': must be 1 with schedule '@continuous'"],
  ])('rejects bad DAG options with an error naming the DAG and field: %j', (options, message) => {
    expect(() => dag(options as never)).toThrow(DagDefinitionError);
    expect(() => dag(options as never)).toThrow(message);
  });

  it.each([
    [{ retries: -1 }, "DAG 'd': task 't': option 'retries': expected an integer >= 0, got -1"],
    [{ retryDelay: 'soon' }, "option 'retryDelay': expected a duration such as '30s'"],
    [{ triggerRule: 'all_sucess' }, "option 'triggerRule': unknown trigger rule 'all_sucess'"],
    [{ poolSlots: 0 }, "option 'poolSlots': expected an integer >= 1, got 0"],
    [{ maxActiveInstances: 0 }, "option 'maxActiveInstances': expected an integer >= 1, got 0"],
    [{ maxActiveInstancesPerRun: 1.5 }, "option 'maxActiveInstancesPerRun': expected an integer >= 1, got 1.5"],
    [{ executionTimeout: 0 }, "option 'executionTimeout': must be greater than zero"],
    [{ retires: 2 }, "option 'retires': unknown option"],
  ])('rejects bad task options naming the DAG, task and field: %j', (options, message) => {
    const d = dag({ id: 'd' });
    expect(() => d.task('t', options as never, () => 1)).toThrow(message);
  });

  it('rejects duplicate task ids and self-dependencies', () => {
    const d = dag({ id: 'dup' });
    d.task('a', () => 1);
    expect(() => d.task('a', () => 2)).toThrow("DAG 'dup': task 'a': duplicate task id 'a'");
    expect(() => d.task('b', { upstream: ['b'] }, () => 1)).toThrow('a task cannot depend on itself');
  });

  it('rejects a task ref from another DAG', () => {
    const other = dag({ id: 'other' }).task('x', () => 1);
    expect(() => dag({ id: 'mine' }).task('y', { upstream: [other] }, () => 1)).toThrow(
      "task 'x' belongs to DAG 'other', not this DAG",
    );
  });

  it('recognises DAGs across module copies by brand', () => {
    expect(isDag(dag({ id: 'b' }))).toBe(true);
    expect(isDag({ id: 'b', tasks: new Map() })).toBe(false);
  });
});

describe('validateDag', () => {
  it('names an unknown upstream id and suggests the closest task', () => {
    const d = dag({ id: 'typo' });
    d.task('extract', () => 1);
    d.task('load', { upstream: ['extarct'] }, () => 1);
    expect(() => validateDag(d, 'dags/typo.ts')).toThrow(
      "dags/typo.ts: DAG 'typo': task 'load': option 'upstream': unknown task 'extarct' (did you mean 'extract'?)",
    );
  });

  it('reports a cycle with its path', () => {
    const d = dag({ id: 'cyclic' });
    d.task('a', { upstream: ['c'] }, () => 1);
    d.task('b', { upstream: ['a'] }, () => 1);
    d.task('c', { upstream: ['b'] }, () => 1);
    d.task('d', { upstream: ['a'] }, () => 1);
    let error: unknown;
    try {
      validateDag(d, 'dags/cyclic.ts');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DagCycleError);
    expect((error as DagCycleError).cycle).toEqual(['a', 'b', 'c', 'a']);
    expect((error as Error).message).toBe("dags/cyclic.ts: DAG 'cyclic': dependency cycle: a -> b -> c -> a");
  });

  it('rejects a DAG without tasks', () => {
    expect(() => validateDag(dag({ id: 'empty' }))).toThrow("DAG 'empty': has no tasks");
  });
});

describe('serializeDag', () => {
  const build = (body: string) => {
    const d = dag({ id: 'ser', schedule: '@daily', startDate: '2024-01-01', tags: ['t'] });
    const a = d.task('a', () => body);
    const b = d.task('b', { upstream: [a], priorityWeight: 5 }, () => 2);
    d.task('c', { upstream: [a, b], weightRule: 'absolute' }, () => 3);
    return d;
  };

  it('records structure, resolved options, downstream lists and function sources', () => {
    const s = serializeDag(build('x'), 'dags/ser.ts');
    expect(s).toMatchObject({ dagId: 'ser', schedule: '@daily', startDate: '2024-01-01T00:00:00.000Z', file: 'dags/ser.ts' });
    expect(s.tasks.map((t) => [t.taskId, t.upstream, t.downstream])).toEqual([
      ['a', [], ['b', 'c']],
      ['b', ['a'], ['c']],
      ['c', ['a', 'b'], []],
    ]);
    expect(s.tasks[0]!.source).toContain('body');
  });

  it("computes priorities with Airflow's weight rules", () => {
    const s = serializeDag(build('x'));
    // downstream: own weight plus all descendants' (c is absolute: its own weight only)
    expect(Object.fromEntries(s.tasks.map((t) => [t.taskId, t.effectivePriority]))).toEqual({ a: 1 + 5 + 1, b: 5 + 1, c: 1 });
  });

  it('hashes equal DAGs equally and changed code differently', () => {
    expect(hashSerializedDag(serializeDag(build('x')))).toBe(hashSerializedDag(serializeDag(build('x'))));
    const edited = dag({ id: 'ser', schedule: '@daily', startDate: '2024-01-01', tags: ['t'] });
    const a = edited.task('a', () => 'changed');
    const b = edited.task('b', { upstream: [a], priorityWeight: 5 }, () => 2);
    edited.task('c', { upstream: [a, b], weightRule: 'absolute' }, () => 3);
    expect(hashSerializedDag(serializeDag(edited))).not.toBe(hashSerializedDag(serializeDag(build('x'))));
  });

  it('keeps priorities cheap and exact on a 2,000-task layered DAG', () => {
    const d = dag({ id: 'wide' });
    let previous: string[] = [];
    for (let layer = 0; layer < 20; layer++) {
      const current: string[] = [];
      for (let i = 0; i < 100; i++) current.push(d.task(`t${layer}_${i}`, { upstream: previous.slice(0, 5) }, () => 1).id);
      previous = current;
    }
    const s = serializeDag(d);
    // Every task of a later layer depends on the first five of the layer before, so t0_0 reaches all
    // 1,900 later tasks; t0_99 has no downstream task at all.
    expect(s.tasks.find((t) => t.taskId === 't0_0')!.effectivePriority).toBe(1901);
    expect(s.tasks.find((t) => t.taskId === 't0_99')!.effectivePriority).toBe(1);
    expect(s.tasks.find((t) => t.taskId === 't18_0')!.effectivePriority).toBe(101);
  });
});
