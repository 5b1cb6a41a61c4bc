/**
 * Every error the engine throws on purpose is a {@link TributaryError} with a stable string `code`.
 * Callers branch on the subclass (or the code); messages are for people and name the file, DAG,
 * task and field involved.
 */

/** Where in the user's code an error belongs: any of these that are known. */
export interface ErrorLocation {
  /** DAG file, relative to the project directory. */
  file?: string;
  dagId?: string;
  taskId?: string;
  /** The option, parameter or config field that is wrong. */
  field?: string;
}

/** Base class of every error the engine raises deliberately. */
export class TributaryError extends Error {
  /** Stable machine-readable code, e.g. `DAG_CYCLE`. */
  readonly code: string;
  readonly location: ErrorLocation;

  constructor(code: string, message: string, options: { cause?: unknown; location?: ErrorLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location ?? {};
  }
}

/** Prefix naming where the problem is: `dags/etl.ts: DAG 'etl': task 'load': `. */
export function locationPrefix(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.file) parts.push(location.file);
  if (location.dagId) parts.push(`DAG '${location.dagId}'`);
  if (location.taskId) parts.push(`task '${location.taskId}'`);
  return parts.length ? `${parts.join(': ')}: ` : '';
}

/** A DAG definition is invalid: bad option, duplicate or unknown task id, bad cron, bad schema. */
export class DagDefinitionError extends TributaryError {
  constructor(message: string, location: ErrorLocation, options: { cause?: unknown; code?: string } = {}) {
    super(options.code ?? 'DAG_INVALID', `${locationPrefix(location)}${message}`, { cause: options.cause, location });
  }
}

/** The DAG's dependencies form a cycle; `cycle` is the path, first node repeated at the end. */
export class DagCycleError extends DagDefinitionError {
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[], location: ErrorLocation) {
    super(`dependency cycle: ${cycle.join(' -> ')}`, location, { code: 'DAG_CYCLE' });
    this.cycle = cycle;
  }
}

/** A DAG file could not be imported: it threw, did not compile, hung, or exited. */
export class DagImportError extends TributaryError {
  readonly file: string;

  constructor(file: string, message: string, options: { cause?: unknown } = {}) {
    super('DAG_IMPORT', `${file}: ${message}`, { ...options, location: { file } });
    this.file = file;
  }
}

/** Run parameters do not match the DAG's params schema. */
export class ParamsValidationError extends TributaryError {
  /** One entry per problem, each naming the parameter path. */
  readonly issues: readonly { path: string; message: string }[];

  constructor(dagId: string, issues: readonly { path: string; message: string }[]) {
    const detail = issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ');
    super('PARAMS_INVALID', `DAG '${dagId}': invalid params: ${detail}`, { location: { dagId } });
    this.issues = issues;
  }
}

/** A task ran longer than its `executionTimeout`. */
export class TaskTimeoutError extends TributaryError {
  constructor(dagId: string, taskId: string, timeoutMs: number) {
    super('TASK_TIMEOUT', `DAG '${dagId}': task '${taskId}' timed out after ${timeoutMs} ms`, {
      location: { dagId, taskId },
    });
  }
}

/**
 * Thrown by a task to end its try as `skipped` rather than failed (Airflow's `AirflowSkipException`):
 * no retry, and downstream tasks are evaluated as for a skipped upstream.
 */
export class SkipTaskError extends TributaryError {
  constructor(reason = 'skipped by the task') {
    super('TASK_SKIPPED', reason);
  }
}

/**
 * A task's templated argument could not be rendered: bad syntax, an unknown name or filter, a
 * variable or connection that does not exist. `location.field` is the argument's path
 * (`args.paths[2]`); `unknownName` is the name when one is unknown.
 */
export class TemplateError extends TributaryError {
  readonly template: string;
  /** The unknown name, when that is the problem. */
  readonly unknownName: string | null;

  constructor(where: { dagId: string; taskId: string }, path: string, template: string, problem: string, options: { name?: string | null; cause?: unknown } = {}) {
    const shown = template.length > 200 ? `${template.slice(0, 200)}…` : template;
    super('TEMPLATE_INVALID', `DAG '${where.dagId}': task '${where.taskId}': argument '${path}' (template ${JSON.stringify(shown)}): ${problem}`, {
      cause: options.cause,
      location: { dagId: where.dagId, taskId: where.taskId, field: path },
    });
    this.template = template;
    this.unknownName = options.name ?? null;
  }
}

/**
 * A task's result could not be stored as XCom (`XCOM_NOT_JSON`, `XCOM_TOO_LARGE`,
 * `XCOM_OFFLOAD_FAILED`), or an offloaded one could not be read back (`XCOM_OBJECT_MISSING`).
 */
export class XcomError extends TributaryError {}

/** A task was stopped by an operator (mark failed, clear, cancel) while running. */
export class TaskCancelledError extends TributaryError {
  constructor(dagId: string, taskId: string, reason: string) {
    super('TASK_CANCELLED', `DAG '${dagId}': task '${taskId}' was stopped: ${reason}`, {
      location: { dagId, taskId },
    });
  }
}

/** The worker running a task is shutting down; the task is stopped (and retried if it has tries left). */
export class WorkerShutdownError extends TaskCancelledError {
  constructor(dagId: string, taskId: string) {
    super(dagId, taskId, 'the worker is shutting down');
  }
}

/** A `command` operator's process exited with a non-zero code or was killed by a signal. */
export class CommandFailedError extends TributaryError {
  /** Exit code, or null when a signal ended the process. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The last lines the process printed (stdout and stderr interleaved). */
  readonly lastLines: readonly string[];

  constructor(message: string, details: { exitCode: number | null; signal: string | null; lastLines: readonly string[] }) {
    super('COMMAND_FAILED', message);
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.lastLines = details.lastLines;
  }
}

/** A Kubernetes pod running a task could not start or failed: the reason, exit code and last log lines. */
export class PodFailedError extends TributaryError {
  /** `namespace/name` of the pod. */
  readonly pod: string;
  /** Kubernetes' reason: `ErrImagePull`, `Unschedulable`, `OOMKilled`, `Error`, … */
  readonly reason: string;
  readonly exitCode: number | null;
  readonly lastLines: readonly string[];

  constructor(pod: string, reason: string, message: string, details: { exitCode?: number | null; lastLines?: readonly string[]; code?: string } = {}) {
    super(details.code ?? 'POD_FAILED', `pod ${pod}: ${message}`);
    this.pod = pod;
    this.reason = reason;
    this.exitCode = details.exitCode ?? null;
    this.lastLines = details.lastLines ?? [];
  }
}

/** A call to the Kubernetes API failed: the operation, the HTTP status and the API's own message. */
export class KubernetesApiError extends TributaryError {
  /** HTTP status, or null when the API could not be reached. */
  readonly status: number | null;

  constructor(operation: string, status: number | null, message: string, options: { cause?: unknown } = {}) {
    super('KUBERNETES_API', `Kubernetes API: ${operation} failed: ${status === null ? '' : `${status} `}${message}`, options);
    this.status = status;
  }
}

/** A named object (DAG, run, task, pool) does not exist. */
export class NotFoundError extends TributaryError {
  /** @param hint - what might help, appended after a semicolon: known names, a suggestion. */
  constructor(what: string, location: ErrorLocation = {}, hint?: string) {
    super('NOT_FOUND', `${what} not found${hint ? `; ${hint}` : ''}`, { location });
  }
}

/** Engine or CLI configuration is invalid. */
export class ConfigError extends TributaryError {
  constructor(message: string, field?: string, options: { cause?: unknown } = {}) {
    super('CONFIG_INVALID', field ? `config '${field}': ${message}` : message, {
      ...options,
      location: field ? { field } : {},
    });
  }
}

/** A request cannot be carried out in the object's current state (e.g. trigger a paused DAG's task). */
export class InvalidStateError extends TributaryError {
  constructor(message: string, location: ErrorLocation = {}) {
    super('INVALID_STATE', `${locationPrefix(location)}${message}`, { location });
  }
}

/** An object with that name already exists (user, pool, variable, connection). */
export class AlreadyExistsError extends TributaryError {
  constructor(what: string, location: ErrorLocation = {}) {
    super('ALREADY_EXISTS', `${what} already exists`, { location });
  }
}

/** A value given to a service function is not acceptable; `location.field` names it. */
export class InvalidInputError extends TributaryError {
  constructor(field: string, message: string) {
    super('INVALID_INPUT', `${field}: ${message}`, { location: { field } });
  }
}

/** Coerce anything caught into an `Error`, keeping the original as `cause` when it was not one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return new Error(text, { cause: value });
}

/** Serializable description of an error, as stored with a failed try. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Describe an error for storage and display. */
export function describeError(value: unknown): ErrorInfo {
  const error = toError(value);
  const info: ErrorInfo = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') info.code = code;
  if (error.stack) info.stack = error.stack;
  return info;
}
