import type { CountyConfig } from '../config/county-config.js';

/** Where Chromium is: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const DEFAULT_CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Chromium flags for headless crawling in containers and CI. */
export const CHROMIUM_ARGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'];

/** Resolve a config's start URLs against its base URL, or against `baseUrl` when given (a mirror, a test server). */
export function startUrlsOf(config: CountyConfig, baseUrl?: string): string[] {
  const base = baseUrl ?? config.site.baseUrl;
  return config.site.startUrls.map((start) => new URL(start, base).href);
}
