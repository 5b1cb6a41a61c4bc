import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Options of the web monitor and REST API ({@link createWebApp}). */
export interface WebOptions {
  /**
   * Mark cookies `Secure` (sent over HTTPS only). Turn on whenever the monitor is served over TLS,
   * directly or behind a proxy.
   * @defaultValue false
   */
  secureCookies?: boolean;
  /**
   * How long a browser session lasts after sign-in.
   * @defaultValue 43200000 (12 hours)
   */
  sessionTtlMs?: number;
  /**
   * Largest request body accepted; larger ones get 413.
   * @defaultValue 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Take the client address from the first `X-Forwarded-For` entry (only behind a proxy you run).
   * @defaultValue false
   */
  trustProxy?: boolean;
  /**
   * `/metrics` reads the database at most this often; scrapes in between get the same numbers.
   * @defaultValue 5000
   */
  metricsCacheMs?: number;
}

/** {@link WebOptions} with every default applied. */
export interface ResolvedWebOptions {
  readonly secureCookies: boolean;
  readonly sessionTtlMs: number;
  readonly maxBodyBytes: number;
  readonly trustProxy: boolean;
  readonly metricsCacheMs: number;
}

/** Defaults of {@link WebOptions}. */
export const DEFAULT_WEB_OPTIONS: ResolvedWebOptions = Object.freeze({
  secureCookies: false,
  sessionTtlMs: 12 * 60 * 60 * 1000,
  maxBodyBytes: 1024 * 1024,
  trustProxy: false,
  metricsCacheMs: 5_000,
});

const schema = z
  .object({
    secureCookies: z.boolean().optional(),
    sessionTtlMs: z.number().int().positive().optional(),
    maxBodyBytes: z.number().int().positive().optional(),
    trustProxy: z.boolean().optional(),
    metricsCacheMs: z.number().int().min(0).optional(),
  })
  .strict();

/** Validate web options (the error names the field) and apply defaults. */
export function resolveWebOptions(options: WebOptions = {}): ResolvedWebOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(issue.message, `web.${issue.path.join('.')}`);
  }
  const given = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return Object.freeze({ ...DEFAULT_WEB_OPTIONS, ...given });
}
