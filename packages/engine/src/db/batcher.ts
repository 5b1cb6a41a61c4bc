/** Options of {@link Batcher}. */
export interface BatcherOptions<In> {
  /**
   * Flushes running at once. A call waits only while this many are in flight, so a lone call never
   * waits: it is flushed at once, alone.
   * @defaultValue 1
   */
  concurrency?: number;
  /**
   * Most inputs in one flush.
   * @defaultValue 500
   */
  maxBatch?: number;
  /** Inputs with the same key never share a flush (a statement may not touch one row twice). */
  key?: (input: In) => string | number;
}

interface Pending<In, Out> {
  input: In;
  resolve: (output: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for statements: concurrent calls are coalesced into one flush (one statement for
 * many task instances) instead of one round trip each. A call made while fewer than `concurrency`
 * flushes are running is flushed immediately, so latency at low load is one round trip; under load,
 * calls queue behind the running flushes and leave together in the next one.
 *
 * `flush` receives the inputs in call order and must return one output per input, in that order.
 */
export class Batcher<In, Out> {
  readonly #flush: (inputs: In[]) => Promise<Out[]>;
  readonly #concurrency: number;
  readonly #maxBatch: number;
  readonly #key: ((input: In) => string | number) | undefined;
  #queue: Pending<In, Out>[] = [];
  #inFlight = 0;

  constructor(flush: (inputs: In[]) => Promise<Out[]>, options: BatcherOptions<In> = {}) {
    this.#flush = flush;
    this.#concurrency = options.concurrency ?? 1;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#key = options.key;
  }

  /** Queue `input` for the next flush; resolves with its output. */
  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      void this.#run(batch);
    }
  }

  #take(): Pending<In, Out>[] {
    if (!this.#key) return this.#queue.splice(0, this.#maxBatch);
    const seen = new Set<string | number>();
    const batch: Pending<In, Out>[] = [];
    const rest: Pending<In, Out>[] = [];
    for (const pending of this.#queue) {
      const key = this.#key(pending.input);
      if (batch.length < this.#maxBatch && !seen.has(key)) {
        seen.add(key);
        batch.push(pending);
      } else rest.push(pending);
    }
    this.#queue = rest;
    return batch;
  }

  async #run(batch: Pending<In, Out>[]): Promise<void> {
    try {
      const outputs = await this.#flush(batch.map((p) => p.input));
      if (outputs.length !== batch.length) throw new Error(`batch flush returned ${outputs.length} outputs for ${batch.length} inputs`);
      batch.forEach((p, i) => p.resolve(outputs[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.#inFlight--;
      this.#pump();
    }
  }
}

/**
 * One lazily created value per owner object (a database handle): batchers shared by every caller
 * using the same connection pool, released with it.
 */
export function perOwner<Owner extends object, T>(create: (owner: Owner) => T): (owner: Owner) => T {
  const values = new WeakMap<Owner, T>();
  return (owner) => {
    let value = values.get(owner);
    if (value === undefined) {
      value = create(owner);
      values.set(owner, value);
    }
    return value;
  };
}
