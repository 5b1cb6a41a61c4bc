import { dag } from '@tributary/engine';
import { command } from '@tributary/engine/operators';

/**
 * Templated arguments: strings in `args` (and in operator arguments) are Liquid templates rendered on
 * the worker just before the task runs, with Airflow's names — `ds`, `ds_nodash`, `logical_date`,
 * `run_id`, `params`, `upstream`, `var.value`, … The rendered arguments are stored with the task
 * instance (`tributary dags state`, the API's `renderedArgs`).
 *
 * Run it: pnpm tributary dags test example_templates --params '{"county": "travis"}'
 */
const templates = dag({
  id: 'example_templates',
  description: 'Arguments rendered from the run context',
  schedule: '@daily',
  startDate: '2024-01-01',
  tags: ['example'],
  params: {
    type: 'object',
    properties: { county: { type: 'string', default: 'kings' }, limit: { type: 'integer', default: 100 } },
  },
});

const list = templates.task('list_files', ({ params }) => ({ files: [`${params.county}-1.csv`, `${params.county}-2.csv`] }));

templates.task(
  'load',
  {
    upstream: [list],
    args: {
      // Text with templates stays text…
      target: 's3://warehouse/{{ params.county }}/{{ ds_nodash }}.parquet',
      week: '{{ ds }} to {{ ds | ds_add: 6 }}',
      // …and a string that is one expression keeps its JSON type: a list, a number.
      files: '{{ upstream.list_files.files }}' as unknown as string[],
      limit: '{{ params.limit }}' as unknown as number,
      mode: "{% if params.limit > 50 %}full{% else %}sample{% endif %}",
    },
  },
  ({ args, log }) => {
    log.info({ target: args.target, files: args.files.length, limit: args.limit }, `loading (${args.mode}, ${args.week})`);
    return args;
  },
);

// Operator arguments are rendered too.
templates.task('announce', command({ command: 'echo', args: ['run {{ run_id }} of {{ dag.dag_id }} for {{ params.county }}'] }));

// Mapped: literal expand values are rendered per instance ({{ map_index }} differs).
templates.task('per_part', { args: { day: '{{ ds }}' }, expand: { part: ['part-{{ map_index }}', 'summary'] } }, ({ args }) => `${args.day}/${args.part}`);

export default templates;
