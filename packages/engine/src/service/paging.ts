/**
 * Which slice of a list to read: `limit` rows after skipping `offset`. Lists read every row when
 * `limit` is left out (the CLI and the metrics want them all; the REST API and pages page).
 */
export interface ListPage {
  /** Most rows to return. @defaultValue every row */
  limit?: number;
  /** Rows to skip first. @defaultValue 0 */
  offset?: number;
}

/** The `LIMIT`/`OFFSET` values of a {@link ListPage} (`null` limit reads every row). @internal */
export function pageBounds(page: ListPage = {}): { limit: number | null; offset: number } {
  return { limit: page.limit ?? null, offset: page.offset ?? 0 };
}
