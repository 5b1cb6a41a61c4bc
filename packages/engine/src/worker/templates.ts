import { Drop, Liquid, type Template } from 'liquidjs';
import type { AssetEventInfo, DataInterval, RunType } from '../dag/types.js';
import { closest } from '../dag/validate.js';
import { TemplateError } from '../errors.js';
import { MASK, isSensitiveName, maskSensitive } from '../service/secrets.js';

// Templates are Liquid (liquidjs): Jinja's `{{ … }}` and `{% … %}` with filters after `|`. Liquid
// evaluates no JavaScript, and `ownPropertyOnly` keeps prototypes out of reach, so a template can
// only read the context built here. Unknown names and filters are errors, not empty strings.
const OPTIONS = {
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  // `{{ x | default: 1 }}` works when x is undefined, as in Jinja.
  lenientIf: true,
  // Dates are UTC, as Airflow's `ds` and `ts` are.
  timezoneOffset: 0,
  dateFormat: '%Y-%m-%dT%H:%M:%S%z',
  renderLimit: 5_000,
  memoryLimit: 64 * 1024 * 1024,
} as const;

/** Renders templates to strings. */
const text = new Liquid(OPTIONS);
/** Renders a template that is one `{{ expression }}` to the expression's value (a number stays a number). */
const typed = new Liquid({ ...OPTIONS, keepOutputType: true });

function addFilters(engine: Liquid): void {
  // Airflow's macros.ds_add(ds, days).
  engine.registerFilter('ds_add', (ds: unknown, days: unknown) => {
    const date = new Date(`${String(ds).slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) throw new Error(`ds_add: expected a date YYYY-MM-DD, got ${JSON.stringify(ds)}`);
    date.setUTCDate(date.getUTCDate() + Number(days));
    return date.toISOString().slice(0, 10);
  });
}
addFilters(text);
addFilters(typed);

const TEMPLATE_MARK = /\{\{|\{%/;
const WHOLE_EXPRESSION = /^\{\{(?:(?!\{\{|\}\}|\{%).)*\}\}$/s;

/** Whether a JSON value holds a template anywhere (a string with `{{` or `{%`). */
export function hasTemplates(value: unknown): boolean {
  if (typeof value === 'string') return TEMPLATE_MARK.test(value);
  if (Array.isArray(value)) return value.some(hasTemplates);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasTemplates);
  return false;
}

/** Lookups a template may make beyond the run's facts; each is made only when a template asks. */
export interface TemplateLookups {
  /** A variable's value (`var.value.x`); throws when there is none. */
  variable(key: string): Promise<string>;
  /** A connection with its secrets (`conn.x.host`); throws when there is none. */
  connection(connId: string): Promise<{
    connType: string; host: string | null; port: number | null; schema: string | null; login: string | null; password: string | null; extra: Record<string, unknown>;
  }>;
  /** The result of any task of the run (`xcom.x`), the list of results for a mapped one; undefined when none. */
  xcom(taskId: string): Promise<unknown>;
}

/** What templates can see about the try being rendered. */
export interface TemplateFacts {
  dagId: string;
  runId: string;
  runType: RunType;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  maxTries: number;
  logicalDate: Date;
  dataInterval: DataInterval;
  params: Record<string, unknown>;
  /** Results of the task's upstream tasks, by id. */
  upstream: Record<string, unknown>;
  triggeringAssetEvents: Readonly<Record<string, readonly AssetEventInfo[]>>;
}

/** A lookup that failed: the message becomes the template error's. */
class LookupProblem extends Error {}

class VariableDrop extends Drop {
  constructor(
    private readonly lookups: TemplateLookups,
    private readonly secrets: Set<string>,
    private readonly json: boolean,
  ) {
    super();
  }

  override async liquidMethodMissing(key: string): Promise<unknown> {
    let value: string;
    try {
      value = await this.lookups.variable(key);
    } catch {
      throw new LookupProblem(`variable '${key}' does not exist (tributary variables, or the web monitor's Variables page)`);
    }
    if (isSensitiveName(key)) this.secrets.add(value);
    if (!this.json) return value;
    try {
      return JSON.parse(value) as unknown;
    } catch (error) {
      throw new LookupProblem(`variable '${key}' is not JSON (var.json): ${(error as Error).message}`);
    }
  }
}

class ConnectionDrop extends Drop {
  constructor(
    private readonly lookups: TemplateLookups,
    private readonly secrets: Set<string>,
  ) {
    super();
  }

  override async liquidMethodMissing(connId: string): Promise<unknown> {
    let conn;
    try {
      conn = await this.lookups.connection(connId);
    } catch {
      throw new LookupProblem(`connection '${connId}' does not exist`);
    }
    if (conn.password) this.secrets.add(conn.password);
    return { conn_id: connId, conn_type: conn.connType, host: conn.host, port: conn.port, schema: conn.schema, login: conn.login, password: conn.password, extra: conn.extra, extra_dejson: conn.extra };
  }
}

class XcomDrop extends Drop {
  constructor(
    private readonly lookups: TemplateLookups,
    private readonly upstream: Record<string, unknown>,
  ) {
    super();
  }

  override async liquidMethodMissing(taskId: string): Promise<unknown> {
    if (Object.hasOwn(this.upstream, taskId)) return this.upstream[taskId];
    const value = await this.lookups.xcom(taskId);
    if (value === undefined) throw new LookupProblem(`task '${taskId}' has no result in this run (xcom.${taskId})`);
    return value;
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Airflow's `ts`: `2024-01-02T03:04:05+00:00`. */
function airflowTs(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+00:00`;
}

/**
 * The names a template can use, Airflow's where Airflow has one: `ds`, `ds_nodash`, `ts`, `ts_nodash`,
 * `ts_nodash_with_tz`, `logical_date`, `data_interval_start`/`end`, `run_id`, `dag_id`, `task_id`,
 * `map_index`, `try_number`, `params`, `dag`, `task`, `ti`, `dag_run`, `upstream`, `xcom`,
 * `var.value`/`var.json`, `conn`, `triggering_asset_events`. Dates are UTC ISO 8601 strings.
 * @internal
 */
export function templateContext(facts: TemplateFacts, lookups: TemplateLookups, secrets: Set<string>): Record<string, unknown> {
  const ds = facts.logicalDate.toISOString().slice(0, 10);
  const ts = airflowTs(facts.logicalDate);
  const logicalDate = facts.logicalDate.toISOString();
  const dagRun = {
    run_id: facts.runId,
    run_type: facts.runType,
    logical_date: logicalDate,
    data_interval_start: facts.dataInterval.start.toISOString(),
    data_interval_end: facts.dataInterval.end.toISOString(),
    conf: facts.params,
  };
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    ts,
    ts_nodash: ts.slice(0, 19).replaceAll('-', '').replaceAll(':', ''),
    ts_nodash_with_tz: `${ts.slice(0, 19).replaceAll('-', '').replaceAll(':', '')}+0000`,
    logical_date: logicalDate,
    data_interval_start: dagRun.data_interval_start,
    data_interval_end: dagRun.data_interval_end,
    run_id: facts.runId,
    dag_id: facts.dagId,
    task_id: facts.taskId,
    map_index: facts.mapIndex,
    try_number: facts.tryNumber,
    params: facts.params,
    dag: { dag_id: facts.dagId },
    task: { task_id: facts.taskId },
    ti: { dag_id: facts.dagId, task_id: facts.taskId, run_id: facts.runId, map_index: facts.mapIndex, try_number: facts.tryNumber, max_tries: facts.maxTries },
    dag_run: dagRun,
    upstream: facts.upstream,
    xcom: new XcomDrop(lookups, facts.upstream),
    var: { value: new VariableDrop(lookups, secrets, false), json: new VariableDrop(lookups, secrets, true) },
    conn: new ConnectionDrop(lookups, secrets),
    triggering_asset_events: facts.triggeringAssetEvents,
  };
}

/** Parsed templates by source: a DAG's templates are parsed once per process, not once per try. */
const parsed = new Map<string, Template[]>();
const MAX_PARSED = 2_000;

function parse(engine: Liquid, source: string): Template[] {
  const key = `${engine === typed ? 't' : 's'}${source}`;
  let templates = parsed.get(key);
  if (!templates) {
    templates = engine.parse(source);
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, templates);
  }
  return templates;
}

/** The keys at `path` (`params`, `upstream.extract`) in the context, for an unknown-name hint. */
function knownAt(context: Record<string, unknown>, path: string[]): string[] | null {
  let value: unknown = context;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || value instanceof Drop || !Object.hasOwn(value, key)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === null || typeof value !== 'object' || value instanceof Drop || Array.isArray(value)) return null;
  return Object.keys(value);
}

function describeProblem(error: unknown, context: Record<string, unknown>): { problem: string; name: string | null } {
  const original = (error as { originalError?: unknown }).originalError;
  if (original instanceof LookupProblem) return { problem: original.message, name: null };
  const message = error instanceof Error ? error.message.replace(/, line:\d+, col:\d+$/, '') : String(error);
  const unknownVariable = /^undefined variable: (.+)$/.exec(message);
  if (unknownVariable) {
    const name = unknownVariable[1]!;
    const parts = name.split('.');
    const leaf = parts.at(-1)!;
    const parent = parts.slice(0, -1);
    const known = knownAt(context, parent);
    let hint = '';
    if (known) {
      const suggestion = closest(leaf, known);
      const where = parent.length === 0 ? 'known names' : `${parent.join('.')} has`;
      hint = ` (${suggestion ? `did you mean '${[...parent, suggestion].join('.')}'? ` : ''}${where}: ${known.join(', ') || 'nothing'})`;
    }
    return { problem: `unknown name '${name}'${hint}`, name };
  }
  const unknownFilter = /^undefined filter: (.+)$/.exec(message);
  if (unknownFilter) return { problem: `unknown filter '${unknownFilter[1]}'`, name: unknownFilter[1]! };
  return { problem: `invalid template: ${message}`, name: null };
}

async function renderString(source: string, context: Record<string, unknown>, path: string, where: { dagId: string; taskId: string }): Promise<unknown> {
  const engine = WHOLE_EXPRESSION.test(source) ? typed : text;
  try {
    const value: unknown = await engine.render(parse(engine, source), context);
    // A value with no JSON form (a drop, undefined) renders as text.
    if (engine === typed && (value === undefined || value instanceof Drop)) return await text.render(parse(text, source), context);
    return value instanceof Date ? value.toISOString() : value;
  } catch (error) {
    const { problem, name } = describeProblem(error, context);
    throw new TemplateError(where, path, source, problem, { name, cause: error });
  }
}

async function renderValue(value: unknown, context: Record<string, unknown>, path: string, where: { dagId: string; taskId: string }): Promise<unknown> {
  if (typeof value === 'string') return TEMPLATE_MARK.test(value) ? renderString(value, context, path, where) : value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(await renderValue(value[i], context, `${path}[${i}]`, where));
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = await renderValue(inner, context, `${path}.${key}`, where);
    return out;
  }
  return value;
}

/**
 * Renders the templates in a task's arguments for one try. Strings holding `{{ … }}` or `{% … %}`
 * are rendered at any depth; a string that is one `{{ expression }}` becomes the expression's value
 * with its JSON type (a number, a list). Errors are {@link TemplateError}s naming the DAG, task,
 * argument path and the unknown name.
 */
export class ArgumentRenderer {
  readonly #where: { dagId: string; taskId: string };
  readonly #secrets = new Set<string>();
  readonly #context: Record<string, unknown>;

  constructor(facts: TemplateFacts, lookups: TemplateLookups) {
    this.#where = { dagId: facts.dagId, taskId: facts.taskId };
    this.#context = templateContext(facts, lookups, this.#secrets);
  }

  /** Render the templates in `value`, a JSON value found at `path` (`args`, `args.file`). */
  render(value: unknown, path: string): Promise<unknown> {
    return renderValue(value, this.#context, path, this.#where);
  }

  /**
   * `value` as it may be stored for people to read: values of secret-looking keys and every secret a
   * template read (a connection's password, a secret-named variable) replaced by `***`.
   */
  masked(value: unknown): unknown {
    const secrets = [...this.#secrets].filter((s) => s.length >= 3);
    const scrub = (v: unknown): unknown => {
      if (typeof v === 'string') return secrets.reduce((s, secret) => s.replaceAll(secret, MASK), v);
      if (Array.isArray(v)) return v.map(scrub);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, scrub(inner)]));
      return v;
    };
    return scrub(maskSensitive(value));
  }
}
