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

// Mapping: fixed args and expanded elements are typed; downstream tasks see the list of results.
const m = dag({ id: 'mapping' });
const files = m.task('files', () => ['a.csv', 'b.csv']);
const loaded = m.task('load', { args: { table: 'raw' }, expand: { file: files, n: [1, 2] } }, ({ args }) => {
  const table: string = args.table;
  const file: string = args.file;
  const n: number = args.n;
  // @ts-expect-error not an argument
  args.other;
  return { table, file, n };
});
m.task('report', { upstream: [loaded] }, ({ upstream }) => {
  const all: { table: string; file: string; n: number }[] = upstream.load;
  return all.length;
});
// @ts-expect-error a task without args has none
m.task('no_args', {}, ({ args }) => args.table);

// Groups: ids are prefixed, a group ref stands for the group in upstream lists.
const grouped = m.group('extract', (g) => {
  const one = g.task('one', () => 1);
  const two = g.task('two', { upstream: [one] }, ({ upstream }) => upstream['extract.one'] + 1);
  const id: 'extract.two' = two.id;
  return id;
});
m.task('after_group', { upstream: [grouped] }, () => 'done');

// Branch and sensors return what they declare.
const choice = m.branch('choose', () => 'report');
const chosen: string[] | undefined = choice.__result;
const waited = m.sensor('wait', () => ({ done: true, value: 42 }));
const waitedValue: number | undefined = waited.__result;
void chosen;
void waitedValue;
