import type { OperatorSpec } from '../dag/types.js';
import { TributaryError } from '../errors.js';
import type { ConfigSchema, SchemaIssue } from './config-file.js';
import type { OperatorDefinition, OperatorImplementation } from './plugin.js';

/** An operator's arguments do not match its schema: raised in the DAG file, or on the worker. */
export class OperatorArgsError extends TributaryError {
  readonly operator: string;
  readonly issues: readonly { field: string; message: string }[];

  constructor(operator: string, issues: readonly { field: string; message: string }[]) {
    const detail = issues.map((i) => `${i.field ? `'${i.field}': ` : ''}${i.message}`).join('; ');
    super('OPERATOR_ARGS_INVALID', `${operator}(): invalid arguments: ${detail}`, { location: issues[0]?.field ? { field: issues[0].field } : {} });
    this.operator = operator;
    this.issues = issues;
  }
}

function fieldIssues(issues: readonly SchemaIssue[]): { field: string; message: string }[] {
  return issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' && issue.keys ? `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** Validate `args` against `schema`, throwing {@link OperatorArgsError} naming each bad field. */
export function parseOperatorArgs<A>(operator: string, schema: ConfigSchema<A> | undefined, args: unknown): A {
  if (!schema) return args as A;
  const result = schema.safeParse(args);
  if (!result.success) throw new OperatorArgsError(operator, fieldIssues(result.error.issues));
  return result.data;
}

/**
 * Define an operator implementation whose arguments the worker validates against `args` before
 * calling `run` (so a spec edited by hand or stored by an older DAG version fails clearly).
 */
export function defineOperator<A, R>(definition: { args?: ConfigSchema<A>; description?: string; run: OperatorImplementation<A, R> }): OperatorDefinition<A, R> {
  return Object.freeze({ ...definition });
}

/** What {@link operatorFactory} needs to build task specs. */
export interface OperatorFactoryOptions<A> {
  /** Operator name, `<plugin>.<operator>`. */
  operator: string;
  /** npm package exporting the plugin, imported by workers that do not have it registered. */
  package?: string;
  /** Validates (and may normalize) the arguments where the DAG file is loaded. */
  args?: ConfigSchema<A>;
}

/**
 * Make the function DAG files call to use an operator: it validates the arguments where the DAG is
 * defined (an error names the operator and the field) and returns the serializable task spec the
 * worker resolves by name. Keep factories in a module that does not import the implementation, so
 * parsing DAG files stays fast.
 *
 * @example
 * ```ts
 * export const greet = operatorFactory<{ name: string }, string>({
 *   operator: 'hello.greet', package: '@acme/tributary-hello', args: z.object({ name: z.string() }),
 * });
 * // in a DAG file: pipeline.task('greet', greet({ name: 'Ada' }));
 * ```
 */
export function operatorFactory<A, R = unknown>(options: OperatorFactoryOptions<A>): (args: A) => OperatorSpec<R> {
  if (!/^[a-z][a-z0-9_-]*\.[A-Za-z][A-Za-z0-9_]*$/.test(options.operator)) {
    throw new TypeError(`operatorFactory: operator must be '<plugin>.<operator>', got ${JSON.stringify(options.operator)}`);
  }
  const short = options.operator.slice(options.operator.indexOf('.') + 1);
  return (args: A): OperatorSpec<R> => {
    const parsed = parseOperatorArgs(short, options.args, args);
    return options.package ? { operator: options.operator, plugin: options.package, args: parsed } : { operator: options.operator, args: parsed };
  };
}
