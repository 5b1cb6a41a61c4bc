import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { WebEnv } from '../types.js';

interface Asset {
  body: string;
  type: string;
  /** First characters of the content's SHA-256: URLs carry it, so browsers may cache forever. */
  hash: string;
}

const require = createRequire(import.meta.url);

// The stylesheet and script of the pages sit in ../static (copied to dist/web/static on build);
// htmx comes from its npm package: no CDN, so the monitor works offline and under a strict CSP.
const SOURCES: Record<string, { path: () => string; type: string }> = {
  'app.css': { path: () => fileURLToPath(new URL('../static/app.css', import.meta.url)), type: 'text/css; charset=utf-8' },
  'app.js': { path: () => fileURLToPath(new URL('../static/app.js', import.meta.url)), type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { path: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
};

const loaded = new Map<string, Asset>();

function asset(name: string): Asset | undefined {
  const source = SOURCES[name];
  if (!source) return undefined;
  let found = loaded.get(name);
  if (!found) {
    const body = readFileSync(source.path(), 'utf8');
    found = { body, type: source.type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
    loaded.set(name, found);
  }
  return found;
}

/** The URL of a static asset of the pages, with its content hash for caching (`/static/app.css?v=…`). */
export function assetUrl(name: 'app.css' | 'app.js' | 'htmx.min.js'): string {
  return `/static/${name}?v=${asset(name)!.hash}`;
}

/** Serve `/static/<name>`: cached for a year when the URL names the current hash, briefly otherwise. */
export function registerAssets(app: Hono<WebEnv>): void {
  app.get('/static/:name', (c) => {
    const found = asset(c.req.param('name'));
    if (!found) return c.text('not found', 404);
    c.header('Cache-Control', c.req.query('v') === found.hash ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    return c.body(found.body, 200, { 'Content-Type': found.type });
  });
}
