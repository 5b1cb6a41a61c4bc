import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_SCRIPT } from './app-script.js';
import { publishListing, type ListingFault, type PublishedListing } from './faults.js';
import { KING_COUNTY_SALES_FILE, kingCountyHouses, loadHouses, type House } from './houses.js';
import { appShell, detailPage, indexPage, listingJson, listPage, photoSvg, SITE_CSS, type SiteVariant } from './pages.js';

/** Options of {@link startListingsSite}. */
export interface ListingsSiteOptions {
  /**
   * Port to listen on; 0 picks a free one.
   * @defaultValue 0
   */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * Publish only the first `limit` houses (newest sales first).
   * @defaultValue every house in the data
   */
  limit?: number;
  /**
   * Listings per list page.
   * @defaultValue 20
   */
  pageSize?: number;
  /** Deliberate data errors (see {@link ListingFault}). @defaultValue [] */
  faults?: readonly ListingFault[];
  /** Path prefixes `robots.txt` disallows for every user agent, besides `/admin/`. @defaultValue [] */
  disallow?: readonly string[];
  /**
   * Delay before answering each page or API request, to make a slow site.
   * @defaultValue 0
   */
  latencyMs?: number;
  /** The sales CSV to publish (plain or gzipped). @defaultValue the King County data shipped with the package */
  dataFile?: string;
}

/** What a request to the site asked for. */
export type SiteRequestKind = 'list' | 'detail' | 'api' | 'script' | 'robots' | 'photo' | 'asset' | 'other';

/** One request the site answered. */
export interface SiteRequest {
  /** When it arrived: `performance.now()` of the site's process, in ms. */
  readonly at: number;
  /** Path and query. */
  readonly path: string;
  readonly kind: SiteRequestKind;
  readonly status: number;
  readonly userAgent: string;
}

/** A running listings site; see {@link startListingsSite}. */
export interface ListingsSite {
  /** Origin, e.g. `http://127.0.0.1:8790`. */
  readonly url: string;
  /** The houses published, in list order. */
  readonly houses: readonly House[];
  readonly pageSize: number;
  /** Number of list pages. */
  readonly pages: number;
  /** URL of a list page of a variant. */
  listUrl(variant: SiteVariant, page?: number): string;
  /** URL of a listing's detail page in a variant. */
  detailUrl(variant: SiteVariant, id: string): string;
  /** Requests answered since the start or the last {@link ListingsSite.clearRequests}, in arrival order. */
  readonly requests: readonly SiteRequest[];
  clearRequests(): void;
  /** Most page and API requests in progress at once since the start or the last clear. */
  readonly maxInFlight: number;
  /** Answer every request with 503 Service Unavailable (true) or serve again (false). */
  setDown(down: boolean): void;
  /** Answer the next `count` requests of these kinds with 503. */
  failNext(count: number, kinds?: readonly SiteRequestKind[]): void;
  /** Change a listing's asking price (a price cut or rise between two scrapes). */
  setPrice(id: string, price: number): void;
  close(): Promise<void>;
}

const PAGE_KINDS: readonly SiteRequestKind[] = ['list', 'detail', 'api'];

function kindOf(path: string): SiteRequestKind {
  if (path === '/robots.txt') return 'robots';
  if (/^\/(static|app)\/listings\/?$/.test(path)) return 'list';
  if (/^\/(static|app)\/listings\/[^/]+$/.test(path)) return 'detail';
  if (path.startsWith('/api/')) return 'api';
  if (path === '/app/app.js') return 'script';
  if (path.startsWith('/photos/')) return 'photo';
  if (path.startsWith('/assets/')) return 'asset';
  return 'other';
}

/**
 * Start the local listings site: the King County sales published as paginated listing pages and
 * detail pages, in a server-rendered variant (`/static/listings?page=N`, `/static/listings/<id>`)
 * and a JavaScript-rendered one (`/app/…`, whose script reads `/api/listings…`), with a
 * `robots.txt`, photos and a stylesheet. Tests control it: faults, downtime, price changes, and the
 * log of every request with its arrival time.
 */
export async function startListingsSite(options: ListingsSiteOptions = {}): Promise<ListingsSite> {
  const all = options.dataFile && options.dataFile !== KING_COUNTY_SALES_FILE ? loadHouses(options.dataFile) : kingCountyHouses();
  const houses = options.limit === undefined ? all : all.slice(0, options.limit);
  const byId = new Map(houses.map((h) => [h.id, h]));
  const pageSize = options.pageSize ?? 20;
  const pages = Math.max(1, Math.ceil(houses.length / pageSize));
  const faults = new Map<string, ListingFault[]>();
  for (const fault of options.faults ?? []) faults.set(fault.id, [...(faults.get(fault.id) ?? []), fault]);
  const prices = new Map<string, number>();
  const robots = ['User-agent: *', 'Disallow: /admin/', ...(options.disallow ?? []).map((p) => `Disallow: ${p}`), ''].join('\n');
  const latencyMs = options.latencyMs ?? 0;

  let requests: SiteRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let down = false;
  let failing: { count: number; kinds: readonly SiteRequestKind[] } = { count: 0, kinds: [] };

  const publish = (house: House): PublishedListing => publishListing(house, faults, prices.get(house.id) ?? house.price);
  const pageOf = (url: URL): number | null => {
    const page = Number(url.searchParams.get('page') ?? '1');
    return Number.isInteger(page) && page >= 1 && page <= pages ? page : null;
  };
  const slice = (page: number): PublishedListing[] => houses.slice((page - 1) * pageSize, page * pageSize).map(publish);

  function send(response: ServerResponse, status: number, type: string, body: string): void {
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(body);
  }

  async function route(url: URL, kind: SiteRequestKind, response: ServerResponse): Promise<void> {
    const html = 'text/html; charset=utf-8';
    const path = url.pathname;
    if (PAGE_KINDS.includes(kind) && latencyMs > 0) await sleep(latencyMs);
    if (path === '/') return send(response, 200, html, indexPage(houses.length, pageSize));
    if (path === '/healthz') return send(response, 200, 'text/plain', 'ok\n');
    if (kind === 'robots') return send(response, 200, 'text/plain', robots);
    if (path === '/assets/site.css') return send(response, 200, 'text/css', SITE_CSS);
    if (kind === 'script') return send(response, 200, 'text/javascript', APP_SCRIPT);
    if (kind === 'photo') {
      const house = byId.get(path.slice('/photos/'.length).replace(/\.svg$/, ''));
      return house ? send(response, 200, 'image/svg+xml', photoSvg(house)) : send(response, 404, 'text/plain', 'no such photo\n');
    }
    const variant = path.startsWith('/app/') ? 'app' : 'static';
    if (kind === 'list') {
      const page = pageOf(url);
      if (page === null) return send(response, 404, html, `<h1>No page ${url.searchParams.get('page')}</h1>`);
      return send(response, 200, html, variant === 'static' ? listPage(slice(page), page, pages, houses.length) : appShell('list', String(page)));
    }
    if (kind === 'detail') {
      const house = byId.get(path.slice(path.lastIndexOf('/') + 1));
      if (!house) return send(response, 404, html, '<h1>This listing is no longer available</h1>');
      return send(response, 200, html, variant === 'static' ? detailPage(publish(house)) : appShell('detail', house.id));
    }
    if (path === '/api/listings') {
      const page = pageOf(url);
      if (page === null) return send(response, 404, 'application/json', JSON.stringify({ error: 'no such page' }));
      return send(response, 200, 'application/json', JSON.stringify({ page, pages, total: houses.length, items: slice(page).map(listingJson) }));
    }
    if (path.startsWith('/api/listings/')) {
      const house = byId.get(path.slice('/api/listings/'.length));
      if (!house) return send(response, 404, 'application/json', JSON.stringify({ error: 'no such listing' }));
      return send(response, 200, 'application/json', JSON.stringify(listingJson(publish(house))));
    }
    return send(response, 404, html, '<h1>Not found</h1>');
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const at = performance.now();
    const url = new URL(request.url ?? '/', 'http://site.invalid');
    const kind = kindOf(url.pathname);
    const counted = PAGE_KINDS.includes(kind);
    if (counted) maxInFlight = Math.max(maxInFlight, ++inFlight);
    response.on('close', () => {
      if (counted) inFlight -= 1;
      requests.push({ at, path: url.pathname + url.search, kind, status: response.statusCode, userAgent: request.headers['user-agent'] ?? '' });
    });
    if (down) {
      response.setHeader('retry-after', '1');
      return send(response, 503, 'text/plain', 'Service Unavailable: the listings site is down\n');
    }
    if (failing.count > 0 && (failing.kinds.length === 0 || failing.kinds.includes(kind))) {
      failing = { ...failing, count: failing.count - 1 };
      return send(response, 503, 'text/plain', 'Service Unavailable (injected failure)\n');
    }
    route(url, kind, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain', `Internal Server Error: ${String(error)}\n`);
      else response.destroy();
    });
  }

  const server = createServer(handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url: origin,
    houses,
    pageSize,
    pages,
    listUrl: (variant, page = 1) => `${origin}/${variant}/listings?page=${page}`,
    detailUrl: (variant, id) => `${origin}/${variant}/listings/${id}`,
    get requests() {
      return requests;
    },
    clearRequests() {
      requests = [];
      maxInFlight = inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    setDown(value) {
      down = value;
    },
    failNext(count, kinds = []) {
      failing = { count, kinds };
    },
    setPrice(id, price) {
      if (!byId.has(id)) throw new Error(`listings site: no listing ${id}`);
      prices.set(id, price);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
