/** Query values for {@link withQuery}: left out when undefined, null, false or ''. */
export type QueryValues = Record<string, string | number | boolean | null | undefined>;

/** `path?k=v&…` with the given values (undefined, null, false and '' left out; `true` as `1`). */
export function withQuery(path: string, query: QueryValues = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === false || value === '') continue;
    params.set(key, value === true ? '1' : String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

const seg = encodeURIComponent;

/** Page of a DAG (its grid), or one of its tabs. */
export function dagPath(dagId: string, tab?: 'graph' | 'runs' | 'code' | 'versions' | 'details' | 'trigger' | 'backfill' | 'audit'): string {
  return `/dags/${seg(dagId)}${tab ? `/${tab}` : ''}`;
}

/** Page of a run, or its gantt chart. */
export function runPath(dagId: string, runId: string, tab?: 'gantt'): string {
  return `/dags/${seg(dagId)}/runs/${seg(runId)}${tab ? `/${tab}` : ''}`;
}

/** Page of a task instance (`mapIndex` ≥ 0 for one instance of a mapped task). */
export function taskPath(dagId: string, runId: string, taskId: string, mapIndex = -1): string {
  return withQuery(`${runPath(dagId, runId)}/tasks/${seg(taskId)}`, { map: mapIndex >= 0 ? mapIndex : undefined });
}

/** Confirmation page (GET) and action (POST) of a run action. */
export function runActionPath(dagId: string, runId: string, action: 'clear' | 'mark' | 'cancel'): string {
  return `${runPath(dagId, runId)}/${action}`;
}

/** `true` for `1`, `true`, `on` (checkboxes and links), false otherwise. */
export function flag(value: unknown): boolean {
  return value === '1' || value === 'true' || value === 'on' || value === true;
}

/**
 * A whole number from a query value within [min, max], else `fallback`. `max` defaults to the
 * largest 32-bit integer: most numbers asked for (versions, map indexes, tries) are compared with
 * such columns, where a larger one is a database error rather than "not found".
 */
export function intParam(value: string | undefined, fallback: number, min = 0, max = 2_147_483_647): number {
  if (value === undefined || !/^-?\d+$/.test(value)) return fallback;
  const n = Number(value);
  return n < min || n > max ? fallback : n;
}

/** What the admin pages manage. */
export type AdminList = 'pools' | 'variables' | 'connections' | 'users';

/**
 * A page of an admin list: the list, `new`, one object, or an action on it
 * (`/pools/new`, `/variables/db%2Furl/edit`, `/users/ana/delete`).
 */
export function adminPath(list: AdminList, id?: string, action?: string): string {
  if (id === undefined) return `/${list}${action ? `/${action}` : ''}`;
  return `/${list}/${seg(id)}${action ? `/${action}` : ''}`;
}
