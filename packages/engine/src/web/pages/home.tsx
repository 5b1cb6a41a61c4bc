/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { Layout } from './layout.js';

/** The signed-in start page (a placeholder until the DAG list lands). */
export function home(c: Context<WebEnv>) {
  const user = c.get('user')!;
  return (
    <Layout c={c} title="DAGs">
      <header>
        Signed in as <strong>{user.username}</strong> ({user.role})
        <form method="post" action="/logout">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>
        <h1>DAGs</h1>
        <p>
          The REST API is documented at <a href="/api/v1/docs">/api/v1/docs</a>.
        </p>
      </main>
    </Layout>
  );
}
