import type { Kysely } from 'kysely';
import { validateListing, type ListingCandidate, type RejectedListing, type ValidListing } from '../extract/listing.js';
import { recordRejected, upsertListings, type ListingScope, type UpsertCounts } from './listings.js';
import type { DiscoveryTables } from './tables.js';

/** What a {@link ListingWriter} stored. */
export interface WriteCounts extends UpsertCounts {
  /** Listings that passed validation. */
  valid: number;
  /** Listings stored as rejected. */
  rejected: number;
}

/** Options of a {@link ListingWriter}. */
export interface ListingWriterOptions {
  /**
   * Listings per transaction.
   * @defaultValue 200
   */
  batchSize?: number;
  /** Called once when a write fails (the crawl should stop; {@link ListingWriter.close} throws the error). */
  onError?: (error: unknown) => void;
}

/**
 * Validates listings as a crawl reads them and stores them in batches, one transaction each, so a
 * crash loses at most the batch in progress: valid ones are upserted into `prospect_queue`,
 * invalid ones recorded in `rejected_listing` with their reasons. Writes run one at a time; `add`
 * waits while a full batch is being written (backpressure on the crawl).
 */
export class ListingWriter {
  readonly #db: Kysely<DiscoveryTables>;
  readonly #scope: ListingScope;
  readonly #state: string;
  readonly #batchSize: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  #valid: ValidListing[] = [];
  #rejected: RejectedListing[] = [];
  #writing: Promise<void> = Promise.resolve();
  #error: unknown = undefined;
  readonly counts: WriteCounts = { valid: 0, rejected: 0, inserted: 0, seenAgain: 0, priceChanges: 0 };

  constructor(db: Kysely<DiscoveryTables>, scope: ListingScope & { state: string }, options: ListingWriterOptions = {}) {
    this.#db = db;
    this.#scope = { source: scope.source, county: scope.county, scrapeId: scope.scrapeId };
    this.#state = scope.state;
    this.#batchSize = options.batchSize ?? 200;
    this.#onError = options.onError;
  }

  /** Validate one listing and queue it; resolves once it is queued (after a write, when the batch is full). */
  async add(candidate: ListingCandidate): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    const result = validateListing(candidate, { state: this.#state });
    if (result.ok) this.#valid.push(result.listing);
    else this.#rejected.push(result.rejected);
    if (this.#valid.length + this.#rejected.length >= this.#batchSize) await this.#flush();
  }

  #flush(): Promise<void> {
    const valid = this.#valid.splice(0);
    const rejected = this.#rejected.splice(0);
    if (valid.length === 0 && rejected.length === 0) return this.#writing;
    this.#writing = this.#writing.then(async () => {
      if (this.#error !== undefined) return;
      try {
        const upserted = await upsertListings(this.#db, this.#scope, valid);
        await recordRejected(this.#db, this.#scope, rejected);
        this.counts.valid += valid.length;
        this.counts.rejected += rejected.length;
        this.counts.inserted += upserted.inserted;
        this.counts.seenAgain += upserted.seenAgain;
        this.counts.priceChanges += upserted.priceChanges;
      } catch (error) {
        this.#error = error;
        this.#onError?.(error);
      }
    });
    return this.#writing;
  }

  /** Write what is queued and wait for every write; throws the first write error. */
  async close(): Promise<WriteCounts> {
    await this.#flush();
    if (this.#error !== undefined) throw this.#error;
    return { ...this.counts };
  }
}
