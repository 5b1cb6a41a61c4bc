import type { Hono } from 'hono';
import { expect } from 'vitest';
import type { Tributary } from '../../src/engine.js';
import type { UserRole } from '../../src/db/schema.js';
import { createApiToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import type { WebEnv } from '../../src/web/types.js';

/** A browser-like client for `app.request()`: keeps cookies, knows its CSRF token. */
export class WebClient {
  readonly #app: Hono<WebEnv>;
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(app: Hono<WebEnv>) {
    this.#app = app;
  }

  /** Send a request with the stored cookies; remember the cookies the response sets. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await this.#app.request(path, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (/Max-Age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
    return response;
  }

  /** Load the sign-in page and take the CSRF token from its form. */
  async fetchCsrf(path = '/'): Promise<string> {
    const page = await (await this.request(path)).text();
    this.csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return this.csrf;
  }

  /** Sign in through the login form; returns the response. */
  async login(username: string, password: string): Promise<Response> {
    await this.fetchCsrf();
    const response = await this.request('/login', { method: 'POST', body: new URLSearchParams({ username, password, _csrf: this.csrf, next: '/' }) });
    if (response.status === 303) await this.fetchCsrf();
    return response;
  }

  /** Post a form as a browser does (with the CSRF field unless `csrf` is false), asking for HTML. */
  form(path: string, fields: Record<string, string> = {}, options: { csrf?: boolean } = {}): Promise<Response> {
    const body = new URLSearchParams(options.csrf === false ? fields : { ...fields, _csrf: this.csrf });
    return this.request(path, { method: 'POST', body, headers: { accept: 'text/html' } });
  }

  /** GET a page and return its status and HTML. */
  async page(path: string, headers: Record<string, string> = {}): Promise<{ status: number; html: string; response: Response }> {
    const response = await this.request(path, { headers: { accept: 'text/html', ...headers } });
    return { status: response.status, html: await response.text(), response };
  }

  /** A JSON request with the CSRF header. */
  json(method: string, path: string, body?: unknown): Promise<Response> {
    return this.request(path, {
      method,
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}

/** Users of every role with known passwords and API tokens, for route tests. */
export async function seedUsers(engine: Tributary): Promise<Record<UserRole, { username: string; password: string; token: string }>> {
  const actor = { name: 'test', origin: 'test' };
  const out = {} as Record<UserRole, { username: string; password: string; token: string }>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    const username = `${role}-user`;
    const password = `${role}-password-1`;
    await createUser(engine.db, { username, role, password }, actor);
    const { token } = await createApiToken(engine.db, { username, name: 'tests' }, actor);
    out[role] = { username, password, token };
  }
  return out;
}

/** A Bearer request through `app.request()`. */
export function bearer(app: Hono<WebEnv>, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

/** Expect `status` and return the parsed JSON body (undefined when empty). */
export async function expectJson<T = Record<string, unknown>>(response: Response | Promise<Response>, status = 200): Promise<T> {
  const r = await response;
  const text = await r.text();
  expect(r.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Expect an API error with `status` and return its `error` object. */
export async function expectError(response: Response | Promise<Response>, status: number): Promise<{ code: string; message: string; field?: string }> {
  return (await expectJson<{ error: { code: string; message: string; field?: string } }>(response, status)).error;
}

/** Seeded users of every role and a function calling `/api/v1` as one of them with their token. */
export async function apiAs(app: Hono<WebEnv>, engine: Tributary) {
  const users = await seedUsers(engine);
  const as = (role: UserRole, method: string, path: string, body?: unknown) => bearer(app, users[role].token, method, `/api/v1${path}`, body);
  return { users, as };
}

/** Seeded users of every role, each with a {@link WebClient} signed in to `app`. */
export async function signedInClients(app: Hono<WebEnv>, engine: Tributary): Promise<Record<UserRole, WebClient>> {
  const users = await seedUsers(engine);
  const clients = {} as Record<UserRole, WebClient>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    clients[role] = new WebClient(app);
    await clients[role].login(users[role].username, users[role].password);
  }
  return clients;
}
