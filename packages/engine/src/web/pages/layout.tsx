/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { htmxCsrfHeaders } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';

/** The HTML page around every page's content. Text is escaped by hono/jsx. */
export function Layout({ c, title, children }: { c: Context<WebEnv>; title: string; children?: Child }) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · Tributary`}</title>
        </head>
        <body hx-headers={htmxCsrfHeaders(c)}>{children}</body>
      </html>
    </>
  );
}
