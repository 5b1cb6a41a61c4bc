import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { WebEnv } from './types.js';

/** Port the web monitor listens on unless told otherwise. */
export const DEFAULT_WEB_PORT = 8080;

/** A running HTTP server. */
export interface WebServer {
  /** The port it listens on (useful with port 0). */
  readonly port: number;
  readonly url: string;
  /** Stop accepting connections and close the open ones. */
  close(): Promise<void>;
}

/** Serve a web app over HTTP with `@hono/node-server`; resolves once it listens. */
export function serveWeb(app: Hono<WebEnv>, options: { port?: number; hostname?: string } = {}): Promise<WebServer> {
  const hostname = options.hostname ?? '0.0.0.0';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_WEB_PORT, hostname }, (info: AddressInfo) => {
      server.off('error', reject);
      const host = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname;
      resolve({
        port: info.port,
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
