/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { CSRF_FIELD, csrfToken } from '../auth/csrf.js';
import type { WebEnv } from '../types.js';
import { Layout } from './layout.js';

/** What the sign-in form shows again after a failed attempt. */
export interface LoginFormState {
  error?: string;
  username?: string;
  /** Where to go after signing in (a same-site path). */
  next?: string;
}

/** The sign-in page: username, password, the CSRF field and where to go next. */
export function loginPage(c: Context<WebEnv>, state: LoginFormState = {}) {
  return (
    <Layout c={c} title="Sign in">
      <div class="login">
        <h1>
          <span class="logo" aria-hidden="true"></span>Tributary
        </h1>
        <form method="post" action="/login" id="login" class="card">
          {state.error ? (
            <p class="notice error" role="alert">
              {state.error}
            </p>
          ) : null}
          <input type="hidden" name={CSRF_FIELD} value={csrfToken(c)} />
          <input type="hidden" name="next" value={state.next ?? '/'} />
          <div class="field">
            <label for="login-username">Username</label>
            <input id="login-username" name="username" autocomplete="username" required value={state.username ?? ''} autofocus />
          </div>
          <div class="field">
            <label for="login-password">Password</label>
            <input id="login-password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <button type="submit" class="btn primary">
            Sign in
          </button>
        </form>
      </div>
    </Layout>
  );
}
