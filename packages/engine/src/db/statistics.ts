/** Options of {@link StatisticsRefresher}. */
export interface StatisticsRefresherConfig {
  /**
   * Rows written to a table, since its last refresh, that call for a new one.
   * @defaultValue 1000
   */
  threshold?: number;
  /**
   * Least time between two refreshes of one table.
   * @defaultValue 10000
   */
  minIntervalMs?: number;
  /**
   * Wait before refreshing, so the transaction that wrote the rows has committed.
   * @defaultValue 250
   */
  delayMs?: number;
}

/**
 * Refreshes a table's planner statistics (`ANALYZE`) soon after a burst of writes to it. A run of
 * 10,000 task instances, or their 10,000 jobs, appears in one transaction; until autovacuum gets to
 * the table (a minute or more later) the planner believes it nearly empty and picks plans that scan
 * every queued row on each fetch — turning each hop into O(n).
 */
export class StatisticsRefresher {
  readonly #analyze: (table: string) => Promise<unknown>;
  readonly #threshold: number;
  readonly #minIntervalMs: number;
  readonly #delayMs: number;
  readonly #written = new Map<string, number>();
  readonly #last = new Map<string, number>();
  readonly #pending = new Set<string>();

  constructor(analyze: (table: string) => Promise<unknown>, config: StatisticsRefresherConfig = {}) {
    this.#analyze = analyze;
    this.#threshold = config.threshold ?? 1000;
    this.#minIntervalMs = config.minIntervalMs ?? 10_000;
    this.#delayMs = config.delayMs ?? 250;
  }

  /** Count `rows` written to `table` (a trusted, schema-qualified name); refresh it when due. */
  note(table: string, rows: number): void {
    const written = (this.#written.get(table) ?? 0) + rows;
    this.#written.set(table, written);
    if (written < this.#threshold || this.#pending.has(table)) return;
    if (Date.now() - (this.#last.get(table) ?? 0) < this.#minIntervalMs) return;
    this.#pending.add(table);
    setTimeout(() => {
      this.#written.set(table, 0);
      this.#last.set(table, Date.now());
      this.#analyze(table)
        .catch(() => {}) // statistics are an optimisation; autovacuum refreshes them anyway
        .finally(() => this.#pending.delete(table));
    }, this.#delayMs).unref();
  }
}
