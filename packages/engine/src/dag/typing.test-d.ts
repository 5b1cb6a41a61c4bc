import { dag } from './dag.js';
const d = dag({
  id: 'etl',
  params: { type: 'object', properties: { limit: { type: 'integer', default: 10 }, name: { type: 'string' } }, required: ['name'] },
});
const extract = d.task('extract', async (ctx) => { const n: number = ctx.params.limit; const s: string = ctx.params.name; return [n, s.length]; });
const other = d.task('other', () => 'x');
d.task('load', { upstream: [extract, other], retries: 2 }, async ({ upstream, params }) => {
  const a: number[] = upstream.extract;
  const b: string = upstream.other;
  // @ts-expect-error typo in upstream id
  upstream.extrac;
  // @ts-expect-error typo in param name
  params.limt;
  return a.length + b.length;
});
const plain = dag({ id: 'plain' });
plain.task('a', (ctx) => { const p: Record<string, unknown> = ctx.params; return p; });
