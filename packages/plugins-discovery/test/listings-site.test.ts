import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListingsSite, type ListingsSite } from '../src/site/server.js';

describe('the local listings site', () => {
  let site: ListingsSite;
  beforeAll(async () => {
    site = await startListingsSite({ limit: 45, pageSize: 20, disallow: ['/static/listings/9'], faults: [] });
  });
  afterAll(() => site?.close());

  const get = async (path: string) => {
    const response = await fetch(`${site.url}${path}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  it('publishes paginated list pages with a next link, and detail pages', async () => {
    expect(site.pages).toBe(3);
    const page1 = await get('/static/listings?page=1');
    expect(page1.status).toBe(200);
    expect(page1.text.match(/<article class="listing"/g)).toHaveLength(20);
    expect(page1.text).toContain('<a rel="next" href="/static/listings?page=2">');
    const page3 = await get('/static/listings?page=3');
    expect(page3.text.match(/<article class="listing"/g)).toHaveLength(5);
    expect(page3.text).not.toContain('rel="next"');
    expect((await get('/static/listings?page=4')).status).toBe(404);
    const house = site.houses[0]!;
    const detail = await get(`/static/listings/${house.id}`);
    expect(detail.text).toContain(`<dd data-field="year-built">${house.yearBuilt}</dd>`);
    expect((await get('/static/listings/0000000000')).status).toBe(404);
  });

  it('serves the JavaScript variant as a shell, a script and a JSON API', async () => {
    const shell = await get('/app/listings?page=2');
    expect(shell.text).toContain('<main id="app" data-view="list" data-key="2">');
    expect(shell.text).not.toContain('<article');
    expect((await get('/app/app.js')).type).toBe('text/javascript');
    const api = JSON.parse((await get('/api/listings?page=2')).text) as { page: number; pages: number; items: { id: string; price: number }[] };
    expect(api).toMatchObject({ page: 2, pages: 3 });
    expect(api.items.map((i) => i.id)).toEqual(site.houses.slice(20, 40).map((h) => h.id));
  });

  it('publishes robots.txt with the disallowed prefixes', async () => {
    expect((await get('/robots.txt')).text).toBe('User-agent: *\nDisallow: /admin/\nDisallow: /static/listings/9\n');
  });

  it('can change a price, fail the next requests, and go down', async () => {
    const house = site.houses[1]!;
    site.setPrice(house.id, 123_456);
    expect((await get(`/static/listings/${house.id}`)).text).toContain('<p class="price">$123,456</p>');
    site.failNext(1, ['detail']);
    expect((await get(`/static/listings/${house.id}`)).status).toBe(503);
    expect((await get(`/static/listings/${house.id}`)).status).toBe(200);
    site.setDown(true);
    expect((await get('/robots.txt')).status).toBe(503);
    site.setDown(false);
    expect((await get('/robots.txt')).status).toBe(200);
    expect(site.requests.at(-1)).toMatchObject({ path: '/robots.txt', kind: 'robots', status: 200 });
  });
});
