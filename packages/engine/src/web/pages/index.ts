import type { Hono } from 'hono';
import type { WebEnv } from '../types.js';
import { home } from './home.js';
import { loginPage } from './login.js';
import { safeNext } from '../auth/routes.js';

/**
 * Register the HTML pages on the web app. Every page module adds its routes here; `c.get('user')`
 * is null for anonymous visitors, who see the sign-in form.
 */
export function registerPages(app: Hono<WebEnv>): void {
  app.get('/login', (c) => c.html(loginPage(c, { next: safeNext(c.req.query('next')) })));
  app.get('/', (c) => (c.get('user') ? c.html(home(c)) : c.html(loginPage(c))));
}
