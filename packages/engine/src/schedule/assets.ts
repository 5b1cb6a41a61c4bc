/**
 * Asset conditions of data-aware schedules (Airflow's `schedule=[a, b]`, `a | b`, `a & (b | c)`):
 * parsing, evaluation against the assets updated so far, and a one-line description. Pure.
 */

/**
 * When an asset-scheduled DAG runs: an asset URI (updated), `{ all: [...] }` (every one holds) or
 * `{ any: [...] }` (at least one holds), nested freely. A plain list means `{ all: list }`.
 */
export type AssetCondition = string | { readonly all: readonly AssetCondition[] } | { readonly any: readonly AssetCondition[] };

/** An asset condition as written in a DAG file: nested lists are allowed and mean `all`. */
export type AssetConditionInput =
  | string
  | readonly AssetConditionInput[]
  | { readonly all: readonly AssetConditionInput[] }
  | { readonly any: readonly AssetConditionInput[] };

/** Longest asset URI accepted. */
export const MAX_ASSET_URI_LENGTH = 1500;

/** Check an asset URI; returns an error message or null. */
export function checkAssetUri(uri: unknown): string | null {
  if (typeof uri !== 'string') return `an asset URI must be a string, got ${uri === null ? 'null' : typeof uri}`;
  if (uri.trim() === '' || uri !== uri.trim() || /\s/.test(uri)) return `asset URI '${uri}' must be non-empty, without whitespace`;
  if (uri.length > MAX_ASSET_URI_LENGTH) return `asset URI '${uri.slice(0, 40)}…' is longer than ${MAX_ASSET_URI_LENGTH} characters`;
  return null;
}

/**
 * Validate an asset condition as written in a DAG file (a list, or an `all`/`any` object) and return
 * it normalized: lists become `{ all }`, duplicate URIs within one list are dropped, and a list of
 * one entry stands for that entry. Throws an `Error` naming the path of what is wrong.
 */
export function parseAssetCondition(value: unknown, path = 'assets'): AssetCondition {
  if (typeof value === 'string') {
    const problem = checkAssetUri(value);
    if (problem) throw new Error(`'${path}': ${problem}`);
    return value;
  }
  if (Array.isArray(value)) return combine('all', value, path);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
      const key = keys[0];
      const list = (value as Record<string, unknown>)[key];
      if (!Array.isArray(list)) throw new Error(`'${path}.${key}': expected a non-empty array of asset URIs or conditions`);
      return combine(key, list, `${path}.${key}`);
    }
    throw new Error(`'${path}': expected an asset URI, a list, { all: [...] } or { any: [...] }, got an object with keys ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`);
  }
  throw new Error(`'${path}': expected an asset URI, a list, { all: [...] } or { any: [...] }, got ${value === null ? 'null' : typeof value}`);
}

function combine(kind: 'all' | 'any', list: readonly unknown[], path: string): AssetCondition {
  if (list.length === 0) throw new Error(`'${path}': expected a non-empty array of asset URIs or conditions`);
  const parts: AssetCondition[] = [];
  const seen = new Set<string>();
  list.forEach((entry, index) => {
    const part = parseAssetCondition(entry, `${path}[${index}]`);
    const key = JSON.stringify(part);
    if (seen.has(key)) return;
    seen.add(key);
    parts.push(part);
  });
  if (parts.length === 1) return parts[0]!;
  return kind === 'all' ? { all: parts } : { any: parts };
}

/** Every asset URI a condition names, each once, in order of appearance. */
export function assetUris(condition: AssetCondition): string[] {
  const uris = new Set<string>();
  const visit = (c: AssetCondition): void => {
    if (typeof c === 'string') uris.add(c);
    else for (const part of 'all' in c ? c.all : c.any) visit(part);
  };
  visit(condition);
  return [...uris];
}

/** Whether a condition holds when the assets in `updated` have been updated (since the DAG's last asset-triggered run). */
export function assetConditionMet(condition: AssetCondition, updated: ReadonlySet<string>): boolean {
  if (typeof condition === 'string') return updated.has(condition);
  return 'all' in condition ? condition.all.every((c) => assetConditionMet(c, updated)) : condition.any.some((c) => assetConditionMet(c, updated));
}

/** A condition in one line, Airflow style: `a & (b | c)`; a plain list reads `a, b`. */
export function describeAssetCondition(condition: AssetCondition, nested = false): string {
  if (typeof condition === 'string') return condition;
  if ('all' in condition && !nested && condition.all.every((c) => typeof c === 'string')) return condition.all.join(', ');
  const text = 'all' in condition ? condition.all.map((c) => describeAssetCondition(c, true)).join(' & ') : condition.any.map((c) => describeAssetCondition(c, true)).join(' | ');
  return nested ? `(${text})` : text;
}
