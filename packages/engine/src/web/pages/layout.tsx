/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { CSRF_FIELD, csrfToken, htmxCsrfHeaders } from '../auth/csrf.js';
import { hasRole } from '../../service/users.js';
import type { WebEnv } from '../types.js';
import { flashOf } from './access.js';
import { assetUrl } from './assets.js';

/** Sections of the top navigation. */
export type NavSection = 'dags' | 'runs' | 'backfills' | 'pools' | 'variables' | 'connections' | 'users' | 'audit';

// The last entry says whether only admins see it.
const NAV: readonly [NavSection, string, string, boolean?][] = [
  ['dags', 'DAGs', '/'],
  ['runs', 'Runs', '/runs'],
  ['backfills', 'Backfills', '/backfills'],
  ['pools', 'Pools', '/pools'],
  ['variables', 'Variables', '/variables'],
  ['connections', 'Connections', '/connections'],
  ['users', 'Users', '/users', true],
  ['audit', 'Audit log', '/audit-log'],
];

/** What every page passes to {@link Layout}. */
export interface LayoutProps {
  c: Context<WebEnv>;
  title: string;
  /** The navigation entry to highlight. */
  section?: NavSection;
  children?: Child;
}

function TopBar({ c, section }: { c: Context<WebEnv>; section?: NavSection }) {
  const user = c.get('user');
  if (!user) return null;
  return (
    <header class="topbar">
      <a class="brand" href="/">
        <span class="logo" aria-hidden="true"></span>Tributary
      </a>
      <nav aria-label="Main">
        {NAV.filter(([, , , adminOnly]) => !adminOnly || hasRole(user.role, 'admin')).map(([key, label, href]) => (
          <a href={href} class={key === section ? 'active' : undefined} aria-current={key === section ? 'page' : undefined}>
            {label}
          </a>
        ))}
        <a href="/api/v1/docs">API</a>
      </nav>
      <div class="user">
        <span>
          Signed in as <strong>{user.username}</strong> ({user.role})
        </span>
        <form method="post" action="/logout">
          <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
          <button type="submit" class="btn small ghost">
            Sign out
          </button>
        </form>
      </div>
    </header>
  );
}

/**
 * The HTML page around every page's content: top navigation, the one-time notice, the confirmation
 * dialog actions open in, the stylesheet, htmx and app.js. Text is escaped by hono/jsx; every htmx
 * request sends the CSRF header (`hx-headers:inherited`, as htmx 4 inherits nothing implicitly).
 */
export function Layout({ c, title, section, children }: LayoutProps) {
  const flash = flashOf(c);
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content='{"defaultTimeout": 30000}' />
          <title>{`${title} · Tributary`}</title>
          <link rel="icon" href="data:," />
          <link rel="stylesheet" href={assetUrl('app.css')} />
          <script src={assetUrl('htmx.min.js')} defer></script>
          <script src={assetUrl('app.js')} defer></script>
        </head>
        <body hx-headers:inherited={htmxCsrfHeaders(c)}>
          <TopBar c={c} section={section} />
          <main class="page">
            {flash ? (
              <p class={`notice ${flash.kind}`} role={flash.kind === 'error' ? 'alert' : 'status'}>
                {flash.message}
              </p>
            ) : null}
            {children}
          </main>
          <dialog id="dialog" aria-labelledby="dialog-title">
            <div id="dialog-body"></div>
          </dialog>
        </body>
      </html>
    </>
  );
}
