/**
 * Counting semaphore for a worker's task slots, which can also wait until a number of slots is free
 * (so a worker fetches jobs only when it can start them).
 */
export class Slots {
  #free: number;
  #waiters: { need: number; resolve: () => void; take: boolean }[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Slots free now. */
  get free(): number {
    return this.#free;
  }

  /** Take one slot, waiting for it if none is free. */
  acquire(): Promise<void> {
    return this.#wait(1, true);
  }

  /** Resolve once `need` slots are free (without taking them). */
  whenFree(need: number): Promise<void> {
    return this.#wait(need, false);
  }

  /**
   * Take up to `max` slots that are free now, without waiting (none while others wait for slots, so
   * they keep their turn). Returns how many were taken.
   */
  take(max: number): number {
    if (this.#waiters.some((w) => w.take)) return 0;
    const taken = Math.max(0, Math.min(max, this.#free));
    this.#free -= taken;
    return taken;
  }

  /** Give `count` slots back. */
  release(count = 1): void {
    if (count <= 0) return;
    this.#free += count;
    this.#wake();
  }

  #wait(need: number, take: boolean): Promise<void> {
    if (this.#waiters.length === 0 && this.#free >= need) {
      if (take) this.#free -= need;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiters.push({ need, resolve, take });
    });
  }

  #wake(): void {
    // First come, first served: a waiter needing more slots is not overtaken by later ones.
    while (this.#waiters.length > 0 && this.#free >= this.#waiters[0]!.need) {
      const waiter = this.#waiters.shift()!;
      if (waiter.take) this.#free -= waiter.need;
      waiter.resolve();
    }
  }
}
