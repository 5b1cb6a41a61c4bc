/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { WebEnv } from '../types.js';
import { Layout } from './layout.js';

const TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Sign in needed', 403: 'Not allowed', 404: 'Not found', 409: 'Conflict', 413: 'Too large', 429: 'Too many attempts' };

/** An HTML error page naming what went wrong (the JSON API answers with its own error bodies). */
export function errorPage(c: Context<WebEnv>, status: ContentfulStatusCode, code: string, message: string): Response | Promise<Response> {
  const title = TITLES[status] ?? 'Error';
  return c.html(
    <Layout c={c} title={title}>
      <section class="card error-page">
        <h1>
          {status} · {title}
        </h1>
        <p class="message">{message}</p>
        <p class="muted">
          <code>{code}</code>
        </p>
        <p>
          {c.get('user') ? <a href="/">Back to the DAGs</a> : <a href="/login">Sign in</a>}
        </p>
      </section>
    </Layout>,
    status,
  );
}
