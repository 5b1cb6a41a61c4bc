import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import { describe, expect, it } from 'vitest';
import { dag } from './dag.js';
import { hashSerializedDag, serializeDag } from './serialize.js';

describe('hashSerializedDag', () => {
  it('hashes the same canonical JSON as stringifying the whole DAG at once, so stored versions keep their hash', () => {
    const d = dag({ id: 'hashed', schedule: '0 * * * *', startDate: '2024-01-01', tags: ['b', 'a'], params: { type: 'object', properties: { n: { type: 'integer', default: 2 } } } });
    const a = d.task('a', () => 1);
    const b = d.task('b', { upstream: [a], retries: 2, pool: 'p' }, () => 2);
    d.task('c', { upstream: [a, b], triggerRule: 'all_done', docs: 'ünïcode "quoted"' }, () => 3);
    const plain = dag({ id: 'plain' });
    plain.task('only', () => null);
    for (const serialized of [serializeDag(d, 'dags/hashed.ts'), serializeDag(plain)]) {
      expect(hashSerializedDag(serialized)).toBe(createHash('sha256').update(stringify(serialized) ?? '').digest('hex'));
    }
  });
});
