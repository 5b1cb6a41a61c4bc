import { describe, expect, it } from 'vitest';
import { DagDefinitionError } from '../errors.js';
import { dag } from './dag.js';
import { hashSerializedDag, serializeDag } from './serialize.js';

const noop = (): void => {};
const other = (): void => {};

describe('outlets', () => {
  it('are validated, de-duplicated and serialized only for tasks that have some', () => {
    const d = dag({ id: 'o' });
    d.task('write', { outlets: ['s3://b/x', 's3://b/x', 'pg://db/t'] }, () => 1);
    d.task('plain', () => 2);
    const [write, plain] = serializeDag(d).tasks;
    expect(write!.outlets).toEqual(['s3://b/x', 'pg://db/t']);
    expect(plain).not.toHaveProperty('outlets');
  });

  it('name the task and the bad entry', () => {
    const d = dag({ id: 'o' });
    expect(() => d.task('t', { outlets: ['ok://1', 'has space'] }, () => 1)).toThrow("DAG 'o': task 't': option 'outlets[1]': asset URI 'has space' must be non-empty");
    expect(() => d.task('u', { outlets: 's3://x' as never }, () => 1)).toThrow("option 'outlets': expected an array of asset URIs, got string");
  });
});

describe('callbacks', () => {
  it('come from the task, its group and the DAG defaults, the nearest winning per kind', () => {
    const d = dag({ id: 'c', defaultTaskOptions: { onFailure: noop, onRetry: noop } });
    d.task('inherits', () => 1);
    d.task('own', { onFailure: [other, noop], onSuccess: other }, () => 1);
    d.task('none', { onRetry: [] }, () => 1);
    d.group('g', { defaultTaskOptions: { onSkipped: other } }, (g) => void g.task('member', () => 1));
    const t = (id: string) => d.tasks.get(id)!.callbacks;
    expect(t('inherits')).toEqual({ failure: [noop], retry: [noop] });
    expect(t('own')).toEqual({ failure: [other, noop], retry: [noop], success: [other] });
    expect(t('none')).toEqual({ failure: [noop] });
    expect(t('g.member')).toEqual({ failure: [noop], retry: [noop], skipped: [other] });
    expect(serializeDag(d).tasks.map((task) => task.callbacks)).toEqual([['failure', 'retry'], ['success', 'failure', 'retry'], ['failure'], ['failure', 'retry', 'skipped']]);
  });

  it('reject what is not a function, naming the option', () => {
    expect(() => dag({ id: 'c' }).task('t', { onSuccess: 'notify' as never }, () => 1)).toThrow("DAG 'c': task 't': option 'onSuccess': expected a function or an array of functions, got string");
    expect(() => dag({ id: 'c', onFailure: [noop, 3] as never })).toThrow("DAG 'c': option 'onFailure': expected a function or an array of functions, got number");
  });

  it('of the DAG and its deadline are serialized by kind, leaving DAGs without them unchanged', () => {
    const build = (extra: object) => {
      const d = dag({ id: 'd', ...extra });
      d.task('t', () => 1);
      return serializeDag(d);
    };
    const bare = build({});
    expect(bare).not.toHaveProperty('callbacks');
    expect(bare).not.toHaveProperty('deadline');
    expect(bare.tasks[0]).not.toHaveProperty('callbacks');
    const full = build({ onSuccess: noop, onFailure: [noop], deadline: { reference: 'logicalDate', after: '2h', callback: noop } });
    expect(full.callbacks).toEqual(['success', 'failure']);
    expect(full.deadline).toEqual({ reference: 'logicalDate', afterMs: 7_200_000 });
    expect(hashSerializedDag(build({}))).toBe(hashSerializedDag(bare));
    expect(hashSerializedDag(full)).not.toBe(hashSerializedDag(bare));
  });
});

describe('deadline', () => {
  it('names what is wrong', () => {
    const bad = (deadline: unknown) => () => dag({ id: 'd', deadline: deadline as never });
    expect(bad({ reference: 'startDate', after: '1h', callback: noop })).toThrow("option 'deadline.reference': expected one of 'logicalDate', 'dataIntervalEnd', 'queuedAt', got \"startDate\"");
    expect(bad({ reference: 'queuedAt', after: 'soon', callback: noop })).toThrow("option 'deadline.after': expected a duration such as '30s', '5m' or '2h', got 'soon'");
    expect(bad({ reference: 'queuedAt', after: '1h' })).toThrow("option 'deadline.callback': expected a function, got undefined");
    expect(bad({ reference: 'queuedAt', after: '1h', callback: noop, every: 1 })).toThrow("option 'deadline.every': unknown option");
    expect(bad({ reference: 'queuedAt', after: '1h', callback: noop })).not.toThrow(DagDefinitionError);
  });
});
