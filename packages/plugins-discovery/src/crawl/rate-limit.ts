import Bottleneck from 'bottleneck';

/** Limits applied per site (host): requests started per second, evenly spaced. */
export interface SiteLimits {
  readonly requestsPerSecond: number;
}

/**
 * Spaces requests to each host at least `1000 / requestsPerSecond` ms apart (Bottleneck's
 * `minTime`), whatever the crawler's concurrency: a crawler awaits {@link SiteRateLimiter.wait}
 * before each navigation.
 */
export class SiteRateLimiter {
  readonly #minTimeMs: number;
  readonly #limiters = new Map<string, Bottleneck>();

  constructor(limits: SiteLimits) {
    this.#minTimeMs = 1000 / limits.requestsPerSecond;
  }

  /** Smallest gap between two request starts to one host, in ms. */
  get minTimeMs(): number {
    return this.#minTimeMs;
  }

  /** Resolve when a request to `url`'s host may start. */
  async wait(url: string): Promise<void> {
    const host = new URL(url).host;
    let limiter = this.#limiters.get(host);
    if (!limiter) {
      limiter = new Bottleneck({ minTime: this.#minTimeMs, maxConcurrent: null });
      this.#limiters.set(host, limiter);
    }
    await limiter.schedule(() => Promise.resolve());
  }

  /** Drop waiting requests and release the limiters. */
  async stop(): Promise<void> {
    await Promise.all([...this.#limiters.values()].map((l) => l.stop({ dropWaitingJobs: true }).catch(() => {})));
    this.#limiters.clear();
  }
}
