import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalDirectoryObjectStore } from './local-object-store.js';

const root = mkdtempSync(join(tmpdir(), 'tributary-objects-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LocalDirectoryObjectStore', () => {
  const store = new LocalDirectoryObjectStore(root);

  it('stores objects under bucket and key, and states and lists them by prefix in key order', async () => {
    expect(await store.stat('exports', 'daily/a.csv')).toBeNull();
    expect(await store.list('exports', 'daily/')).toEqual([]);
    await store.put('exports', 'daily/b.csv', 'bb');
    await store.put('exports', 'daily/a.csv', 'a');
    await store.put('exports', 'daily-summary.txt', 'summary');
    await store.put('exports', 'weekly/2024/w1.csv', 'w');
    expect(await store.stat('exports', 'daily/a.csv')).toMatchObject({ key: 'daily/a.csv', size: 1 });
    expect(await store.stat('exports', 'daily')).toBeNull(); // a "directory" is not an object
    expect((await store.list('exports', 'daily/')).map((o) => o.key)).toEqual(['daily/a.csv', 'daily/b.csv']);
    expect((await store.list('exports', 'daily')).map((o) => o.key)).toEqual(['daily-summary.txt', 'daily/a.csv', 'daily/b.csv']);
    expect((await store.list('exports', 'weekly/20')).map((o) => o.key)).toEqual(['weekly/2024/w1.csv']);
    expect((await store.list('exports', '', { limit: 2 })).map((o) => o.key)).toEqual(['daily-summary.txt', 'daily/a.csv']);
    await store.put('exports', 'daily/a.csv', 'replaced');
    expect(await store.stat('exports', 'daily/a.csv')).toMatchObject({ size: 8 });
  });

  it('reads an object back byte for byte, and null for a missing key or a "directory"', async () => {
    const body = new Uint8Array([0, 1, 2, 255]);
    await store.put('results', 'xcom/d/r/t/-1/1.json', body);
    expect(await store.get('results', 'xcom/d/r/t/-1/1.json')).toEqual(Buffer.from(body));
    expect(await store.get('results', 'xcom/d/r/t/-1/2.json')).toBeNull();
    expect(await store.get('results', 'xcom/d')).toBeNull();
    await expect(store.get('results', '../x')).rejects.toThrow('a key is a relative');
  });

  it('refuses keys that leave the bucket and bad bucket names', async () => {
    await expect(store.stat('exports', '../secrets')).rejects.toThrow("key: a key is a relative '/'-separated path");
    await expect(store.put('exports', '/etc/passwd', 'x')).rejects.toThrow('a key is a relative');
    await expect(store.list('exports', 'a/../../b')).rejects.toThrow('a prefix is a relative');
    await expect(store.stat('../up', 'k')).rejects.toThrow("bucket: expected 1-63 letters, digits, '.', '_' or '-', got '../up'");
  });
});
