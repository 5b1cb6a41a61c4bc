import { describe, expect, it } from 'vitest';
import { TemplateError } from '../errors.js';
import { ArgumentRenderer, hasTemplates, type TemplateFacts, type TemplateLookups } from './templates.js';

const facts: TemplateFacts = {
  dagId: 'etl',
  runId: 'scheduled__2024-03-05T06:00:00.000Z',
  runType: 'scheduled',
  taskId: 'load',
  mapIndex: 2,
  tryNumber: 1,
  maxTries: 3,
  logicalDate: new Date('2024-03-05T06:07:08Z'),
  dataInterval: { start: new Date('2024-03-05T06:07:08Z'), end: new Date('2024-03-06T06:07:08Z') },
  params: { county: 'kings', limit: 10, tags: ['a', 'b'] },
  upstream: { extract: { count: 3, files: ['x.csv', 'y.csv'] } },
  triggeringAssetEvents: {},
};

const variables: Record<string, string> = { region: 'us-east-1', settings: '{"batch": 50}', db_password: 'hunter22' };
const lookups: TemplateLookups = {
  variable: async (key) => {
    if (!(key in variables)) throw new Error('missing');
    return variables[key]!;
  },
  connection: async (id) => {
    if (id !== 'warehouse') throw new Error('missing');
    return { connType: 'postgres', host: 'db.internal', port: 5432, schema: 'public', login: 'etl', password: 's3cret-pw', extra: { sslmode: 'require' } };
  },
  xcom: async (taskId) => (taskId === 'other' ? { ok: true } : undefined),
};

const render = (value: unknown, path = 'args') => new ArgumentRenderer(facts, lookups).render(value, path);

async function failure(value: unknown): Promise<TemplateError> {
  const error = await render(value).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemplateError);
  return error as TemplateError;
}

describe('hasTemplates', () => {
  it('finds a template at any depth and nothing in plain values', () => {
    expect(hasTemplates({ a: [1, { b: 'x {{ ds }}' }] })).toBe(true);
    expect(hasTemplates(['{% if true %}y{% endif %}'])).toBe(true);
    expect(hasTemplates({ a: 'plain', b: [1, null, { c: '{ not a template }' }] })).toBe(false);
  });
});

describe('ArgumentRenderer', () => {
  it("renders Airflow's date names from the logical date, in UTC", async () => {
    expect(
      await render({
        ds: '{{ ds }}',
        nodash: '{{ ds_nodash }}',
        ts: '{{ ts }}',
        tsNodash: '{{ ts_nodash }}',
        tz: '{{ ts_nodash_with_tz }}',
        logical: '{{ logical_date }}',
        start: '{{ data_interval_start }}',
        end: '{{ data_interval_end }}',
        path: 's3://bucket/{{ ds_nodash }}/part-{{ map_index }}.csv',
        week: '{{ ds | ds_add: 7 }}',
        formatted: "{{ logical_date | date: '%Y/%m/%d %H:%M' }}",
      }),
    ).toEqual({
      ds: '2024-03-05',
      nodash: '20240305',
      ts: '2024-03-05T06:07:08+00:00',
      tsNodash: '20240305T060708',
      tz: '20240305T060708+0000',
      logical: '2024-03-05T06:07:08.000Z',
      start: '2024-03-05T06:07:08.000Z',
      end: '2024-03-06T06:07:08.000Z',
      path: 's3://bucket/20240305/part-2.csv',
      week: '2024-03-12',
      formatted: '2024/03/05 06:07',
    });
  });

  it('renders the run, DAG and task names, params and upstream results', async () => {
    expect(
      await render(['{{ run_id }}', '{{ dag.dag_id }}/{{ dag_id }}', '{{ task_id }}:{{ ti.try_number }}', '{{ params.county | upcase }}', '{{ upstream.extract.count }}', '{{ xcom.other.ok }}', '{{ dag_run.run_type }}']),
    ).toEqual(['scheduled__2024-03-05T06:00:00.000Z', 'etl/etl', 'load:1', 'KINGS', 3, true, 'scheduled']);
  });

  it('keeps the JSON type of a whole-string expression, and renders mixed strings as text', async () => {
    expect(await render({ n: '{{ params.limit }}', list: '{{ upstream.extract.files }}', size: '{{ params.tags.size }}', text: 'limit={{ params.limit }}', padded: ' {{ params.limit }}' })).toEqual({
      n: 10,
      list: ['x.csv', 'y.csv'],
      size: 2,
      text: 'limit=10',
      padded: ' 10',
    });
  });

  it('reads variables and connections, and supports Liquid tags and defaults', async () => {
    expect(
      await render({
        region: '{{ var.value.region }}',
        batch: '{{ var.json.settings.batch }}',
        host: '{{ conn.warehouse.host }}:{{ conn.warehouse.port }}',
        ssl: '{{ conn.warehouse.extra_dejson.sslmode }}',
        mode: '{% if params.limit > 5 %}big{% else %}small{% endif %}',
        fallback: '{{ params.missing | default: 7 }}',
      }),
    ).toEqual({ region: 'us-east-1', batch: 50, host: 'db.internal:5432', ssl: 'require', mode: 'big', fallback: 7 });
  });

  it('leaves values without templates untouched', async () => {
    const value = { a: 1, b: [true, null, 'x'], c: { d: 'no {template}' } };
    expect(await render(value)).toEqual(value);
  });

  it('names the DAG, task, argument path and unknown name, with a suggestion', async () => {
    const error = await failure({ paths: ['ok', '{{ ds_nodsh }}'] });
    expect(error.message).toMatch(/^DAG 'etl': task 'load': argument 'args\.paths\[1\]' \(template "\{\{ ds_nodsh \}\}"\): unknown name 'ds_nodsh' \(did you mean 'ds_nodash'\? known names: ds, ds_nodash/);
    expect(error.unknownName).toBe('ds_nodsh');
    expect(error.location).toEqual({ dagId: 'etl', taskId: 'load', field: 'args.paths[1]' });
    expect(error.code).toBe('TEMPLATE_INVALID');
  });

  it('lists what a nested object has when a key is unknown', async () => {
    expect((await failure('{{ params.countie }}')).message).toContain("unknown name 'params.countie' (did you mean 'params.county'? params has: county, limit, tags)");
    expect((await failure('{{ upstream.extrct.count }}')).message).toContain("unknown name 'upstream.extrct' (did you mean 'upstream.extract'? upstream has: extract)");
  });

  it('reports unknown filters, syntax errors and missing variables, connections and results', async () => {
    expect((await failure('{{ ds | shout }}')).message).toContain("unknown filter 'shout'");
    expect((await failure('{{ ds ')).message).toContain('invalid template:');
    expect((await failure('{{ var.value.nope }}')).message).toContain("variable 'nope' does not exist");
    expect((await failure('{{ conn.nope.host }}')).message).toContain("connection 'nope' does not exist");
    expect((await failure('{{ xcom.ghost }}')).message).toContain("task 'ghost' has no result in this run");
  });

  it('cannot reach prototypes or JavaScript', async () => {
    expect((await failure('{{ ds.constructor }}')).message).toContain("unknown name 'ds.constructor'");
    expect((await failure('{{ params.__proto__ }}')).message).toContain('unknown name');
  });

  it('masks secrets the templates read, and secret-looking keys, for storage', async () => {
    const renderer = new ArgumentRenderer(facts, lookups);
    const rendered = await renderer.render({ dsn: 'postgres://etl:{{ conn.warehouse.password }}@db/x', pw: '{{ var.value.db_password }}', api_token: 'abc' }, 'args');
    expect(rendered).toEqual({ dsn: 'postgres://etl:s3cret-pw@db/x', pw: 'hunter22', api_token: 'abc' });
    expect(renderer.masked(rendered)).toEqual({ dsn: 'postgres://etl:***@db/x', pw: '***', api_token: '***' });
  });
});
