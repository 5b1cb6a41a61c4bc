/**
 * Wakes task instances when their retry time comes, with timers in this process. The scheduler's
 * sweep also wakes overdue retries, so a retry is never lost when this process stops.
 */
export class RetryWaker {
  readonly #wake: (tiId: number) => Promise<unknown>;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #onError: (error: unknown, tiId: number) => void;

  constructor(wake: (tiId: number) => Promise<unknown>, onError: (error: unknown, tiId: number) => void) {
    this.#wake = wake;
    this.#onError = onError;
  }

  /** Wake `tiId` at `at`. */
  schedule(tiId: number, at: Date): void {
    clearTimeout(this.#timers.get(tiId));
    const timer = setTimeout(() => {
      this.#timers.delete(tiId);
      this.#wake(tiId).catch((error: unknown) => this.#onError(error, tiId));
    }, Math.max(0, at.getTime() - Date.now()));
    this.#timers.set(tiId, timer);
  }

  /** Cancel every pending timer. */
  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
