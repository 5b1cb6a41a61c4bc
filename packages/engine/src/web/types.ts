import type { Tributary } from '../engine.js';
import type { UserRole } from '../db/schema.js';
import type { ResolvedWebOptions } from './options.js';

/** The signed-in user of a request. */
export interface WebUser {
  id: number;
  username: string;
  role: UserRole;
}

/** How the request proved who it is. */
export type AuthMethod = 'session' | 'token';

/**
 * The Hono environment of every route: `c.get('engine')`, `c.get('user')` (null when anonymous),
 * `c.get('csrfToken')` for forms and htmx headers.
 */
export interface WebEnv {
  Variables: {
    engine: Tributary;
    options: ResolvedWebOptions;
    user: WebUser | null;
    authMethod: AuthMethod | null;
    /** The token a state-changing request from this browser must send (see `csrf.ts`). */
    csrfToken: string;
    /** The client's address, for the audit log. */
    clientIp: string;
    /** A one-time notice for the page being rendered (set after an action redirects here). */
    flash?: { kind: 'ok' | 'error'; message: string };
  };
}
