import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { TributaryError } from '../errors.js';

/** One problem a schema found: where (path of keys and indexes) and what. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  /** For unknown keys: which. */
  readonly keys?: readonly string[];
  /** For unions: the issues of each alternative. */
  readonly errors?: readonly (readonly SchemaIssue[])[];
}

/**
 * The part of a schema library the engine uses: `safeParse`. A zod schema satisfies it, so plugins
 * bring their own zod without the engine pinning its version.
 */
export interface ConfigSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly SchemaIssue[] } };
}

/** A problem in a config file, with its position when known. */
export interface ConfigFileProblem {
  /** Dotted path of the field (`limits.maxPages`, `startUrls.0`); empty for the whole file. */
  readonly field: string;
  /** 1-based line and column, when the field (or its parent) is in the file. */
  readonly line?: number;
  readonly column?: number;
  /** What was expected and what was found. */
  readonly message: string;
}

/**
 * A config file is not valid YAML/JSON or does not match its schema. The message lists every problem
 * as `file:line:column: field: what was expected`.
 */
export class ConfigFileError extends TributaryError {
  /** The file as given (relative to the project when under it). */
  readonly file: string;
  readonly problems: readonly ConfigFileProblem[];

  constructor(file: string, problems: readonly ConfigFileProblem[]) {
    const lines = problems.map((p) => `  ${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`);
    super('CONFIG_FILE_INVALID', `${file}: invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
      location: { file, ...(problems[0]?.field ? { field: problems[0].field } : {}) },
    });
    this.file = file;
    this.problems = problems;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Turn a schema issue into a message that says what was expected and what the file has. */
function explain(issue: SchemaIssue, data: unknown): string {
  const found = valueAt(data, issue.path);
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (check the spelling)`;
  }
  if (issue.code === 'invalid_union' && issue.errors?.length) {
    const expected = issue.errors.map((branch) => branch[0]?.message.replace(/^Invalid input: (expected )?/, '').replace(/, received \w+$/, '')).filter(Boolean);
    return `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(found)}`;
  }
  const message = issue.message.replace(/^Invalid (input|option): /, '');
  if (found === undefined && issue.code === 'invalid_type') return `missing (${message.replace(/, received undefined$/, '')})`;
  return `${message}${/received|got/.test(message) ? '' : `, got ${describeValue(found)}`}`;
}

function toPosition(at: { line: number; col: number }): { line: number; column: number } {
  return { line: at.line, column: at.col };
}

/** Position of the node at `path`, or of its nearest ancestor in the document. */
function positionOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[], keys?: readonly string[]): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n -= 1) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (!isNode(node) || !node.range) continue;
    // An unknown key: point at the key itself.
    if (n === path.length && keys?.length && isMap(node)) {
      const pair = node.items.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === keys[0]);
      if (pair && isNode(pair.key) && pair.key.range) return toPosition(lines.linePos(pair.key.range[0]));
    }
    return toPosition(lines.linePos(node.range[0]));
  }
  return undefined;
}

/**
 * Parse YAML (or JSON) text and validate it against `schema`. Throws {@link ConfigFileError} naming
 * `file`, the line and column, the field and what was expected for every problem.
 */
export function parseConfigText<T>(text: string, schema: ConfigSchema<T>, file: string): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      file,
      doc.errors.map((error) => {
        const at = toPosition(lines.linePos(error.pos[0]));
        return { field: '', ...at, message: `not valid YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue): ConfigFileProblem => {
    const at = positionOf(doc, lines, issue.path, issue.keys);
    return { field: issue.path.map(String).join('.'), ...(at ? { line: at.line, column: at.column } : {}), message: explain(issue, data) };
  });
  throw new ConfigFileError(file, problems);
}

/**
 * Read a YAML or JSON config file and validate it against `schema` (see {@link parseConfigText}).
 * Errors name the file relative to `projectDir` when it is inside it.
 *
 * @example
 * ```ts
 * const county = await readConfigFile('dags/config/counties/king_wa.yaml', countyConfigSchema);
 * ```
 */
export async function readConfigFile<T>(path: string, schema: ConfigSchema<T>, projectDir: string = process.cwd()): Promise<T> {
  const shown = isAbsolute(path) && !relative(projectDir, path).startsWith('..') ? relative(projectDir, path) : path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(shown, [{ field: '', message: code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})` }]);
  }
  return parseConfigText(text, schema, shown);
}
