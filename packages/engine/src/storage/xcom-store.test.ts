import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { XcomError } from '../errors.js';
import { LocalDirectoryObjectStore } from './local-object-store.js';
import { OffloadedXcom, XcomStore, resolveXcomOffloadConfig, xcomObjectKey, type XcomObjectRef } from './xcom-store.js';

const root = mkdtempSync(join(tmpdir(), 'tributary-xcom-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const objects = new LocalDirectoryObjectStore(root);
const where = { dagId: 'etl', runId: 'manual__2024-01-01T00:00:00+00:00', taskId: 'load', mapIndex: -1, tryNumber: 2 };

describe('XcomStore', () => {
  it('keeps results in the database up to xcomMaxBytes without offload, and names DAG, task and limit past it', async () => {
    const store = new XcomStore({ objectStore: objects, xcomMaxBytes: 100, offload: null });
    expect(await store.store({ a: 1 }, where)).toEqual({ json: '{"a":1}', offloaded: false, sizeBytes: 7 });
    expect(await store.store(undefined, where)).toBeNull();
    const error = await store.store('x'.repeat(200), where).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XcomError);
    expect(error).toMatchObject({ code: 'XCOM_TOO_LARGE', location: { dagId: 'etl', taskId: 'load', field: 'xcomMaxBytes' } });
    expect((error as Error).message).toMatch(/^DAG 'etl': task 'load': result is 202 bytes, over the limit of 100 bytes \(xcomMaxBytes\); .*turn on xcomOffload$/);
    await expect(store.store({ n: 1n }, where)).rejects.toThrow("DAG 'etl': task 'load': result is not JSON-serializable");
  });

  it('offloads a result over the threshold to xcom/<dag>/<run>/<task>/<map index>/<try>.json and reads it back', async () => {
    const offload = resolveXcomOffloadConfig({ thresholdBytes: 16, maxBytes: 1000 }, 100)!;
    const store = new XcomStore({ objectStore: objects, xcomMaxBytes: 100, offload });
    expect(await store.store('small', where)).toEqual({ json: '"small"', offloaded: false, sizeBytes: 7 });
    const value = { rows: ['é'.repeat(40)] };
    const stored = (await store.store(value, where))!;
    const ref = JSON.parse(stored.json) as XcomObjectRef;
    expect(stored).toMatchObject({ offloaded: true, sizeBytes: Buffer.byteLength(JSON.stringify(value)) });
    expect(ref).toEqual({ bucket: 'tributary', key: 'xcom/etl/manual__2024-01-01T00%3A00%3A00%2B00%3A00/load/-1/2.json', sizeBytes: stored.sizeBytes });
    expect(await objects.stat('tributary', ref.key)).toMatchObject({ size: stored.sizeBytes });
    expect(await store.read(ref, where)).toEqual(value);

    const tooBig = await store.store('x'.repeat(2000), where).catch((e: unknown) => e as Error);
    expect(tooBig).toMatchObject({ code: 'XCOM_TOO_LARGE', message: expect.stringMatching(/^DAG 'etl': task 'load': result is 2002 bytes, over the limit of 1000 bytes \(xcomOffload\.maxBytes\)/) });
  });

  it('resolves offloaded values and list elements in place, and names a missing object', async () => {
    const offload = resolveXcomOffloadConfig({ thresholdBytes: 1 }, 100)!;
    const store = new XcomStore({ objectStore: objects, xcomMaxBytes: 100, offload });
    const first = JSON.parse((await store.store([1, 2], { ...where, mapIndex: 0 }))!.json) as XcomObjectRef;
    const plain = { kept: true, list: [3], other: 'x' };
    expect(await store.resolveAll(plain, 'etl')).toBe(plain);
    const resolved = await store.resolveAll({ load: new OffloadedXcom(first, 'load'), mapped: [new OffloadedXcom(first, 'mapped'), 'inline'] }, 'etl');
    expect(resolved).toEqual({ load: [1, 2], mapped: [[1, 2], 'inline'] });
    const gone = { ...first, key: 'xcom/etl/gone/load/-1/1.json' };
    await expect(store.read(gone, where)).rejects.toThrow(`DAG 'etl': task 'load': its result, offloaded to tributary/${gone.key}, is missing from the object store`);
  });

  it('makes every id a single safe key segment', () => {
    expect(xcomObjectKey({ dagId: 'd', runId: '..', taskId: 'a/b', mapIndex: 3, tryNumber: 1 })).toBe('xcom/d/%2E%2E/a%2Fb/3/1.json');
  });
});
