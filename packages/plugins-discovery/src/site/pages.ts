import type { PublishedListing } from './faults.js';
import type { House } from './houses.js';

/** The site's two variants: server-rendered HTML, and an HTML shell whose script renders from a JSON API. */
export type SiteVariant = 'static' | 'app';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const longDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });

/** How the site writes each kind of value; a string (a fault) is shown as it is. */
const FORMATS = {
  money: (n: number) => `$${integer.format(n)}`,
  beds: (n: number) => `${n} bd`,
  baths: (n: number) => `${decimal.format(n)} ba`,
  area: (n: number) => `${integer.format(n)} sqft`,
  plain: (n: number) => String(n),
} as const;

function shown(value: number | string | null, format: (n: number) => string): string | null {
  if (value === null) return null;
  return escapeHtml(typeof value === 'number' ? format(value) : value);
}

function element(tag: string, className: string, value: number | string | null, format: (n: number) => string): string {
  const text = shown(value, format);
  return text === null ? '' : `<${tag} class="${className}">${text}</${tag}>`;
}

function fact(label: string, field: string, value: number | string | null, format: (n: number) => string): string {
  const text = shown(value, format);
  return text === null ? '' : `<dt>${label}</dt><dd data-field="${field}">${text}</dd>`;
}

/** A whole page: head with the site's stylesheet, a header, the body. */
export function layout(title: string, body: string, script?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · King County Homes</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/site.css"></head>
<body><header><a href="/">King County Homes</a> <small>listings from King County, WA public sales records (2014-2015)</small></header>
${body}${script ? `\n<script src="${script}"></script>` : ''}
</body></html>
`;
}

function location(listing: PublishedListing): string {
  const zip = element('span', 'zip', listing.zip, FORMATS.plain);
  return `<p class="location"><span class="city">${escapeHtml(listing.house.city)}</span>, <span class="state">WA</span>${zip ? ` ${zip}` : ''}</p>`;
}

/** One listing on a list page. */
export function listingCard(listing: PublishedListing, href: string): string {
  const { house } = listing;
  const address = shown(listing.address, FORMATS.plain);
  return `<li><article class="listing" data-listing-id="${house.id}">
<a class="photo-link" href="${href}"><img class="photo" src="/photos/${house.id}.svg" alt="" width="240" height="150"></a>
<h2><a class="listing-link" href="${href}">${address === null ? 'View listing' : `<span class="address">${address}</span>`}</a></h2>
${location(listing)}
${element('p', 'price', listing.price, FORMATS.money)}
<ul class="facts">${element('li', 'beds', listing.bedrooms, FORMATS.beds)}${element('li', 'baths', listing.bathrooms, FORMATS.baths)}${element('li', 'sqft', listing.livingArea, FORMATS.area)}</ul>
</article></li>`;
}

/** Links to the previous and next list pages. */
export function pagination(page: number, pages: number, hrefOf: (page: number) => string): string {
  const prev = page > 1 ? `<a rel="prev" href="${hrefOf(page - 1)}">Previous</a>` : '';
  const next = page < pages ? `<a rel="next" href="${hrefOf(page + 1)}">Next</a>` : '';
  return `<nav class="pagination"><span class="page-info">Page ${page} of ${pages}</span> ${prev} ${next}</nav>`;
}

/** A server-rendered list page. */
export function listPage(listings: readonly PublishedListing[], page: number, pages: number, total: number): string {
  const cards = listings.map((l) => listingCard(l, `/static/listings/${l.house.id}`)).join('\n');
  return layout(
    `Homes for sale, page ${page}`,
    `<main><h1>Homes for sale <small>${integer.format(total)} listings</small></h1>
<ol class="listings">
${cards}
</ol>
${pagination(page, pages, (p) => `/static/listings?page=${p}`)}</main>`,
  );
}

/** The facts of a listing's detail page. */
export function detailFacts(listing: PublishedListing): string {
  const { house } = listing;
  return [
    fact('Bedrooms', 'bedrooms', listing.bedrooms, FORMATS.plain),
    fact('Bathrooms', 'bathrooms', listing.bathrooms, (n) => decimal.format(n)),
    fact('Living area', 'living-area', listing.livingArea, FORMATS.area),
    fact('Lot size', 'lot-size', listing.lotSize, FORMATS.area),
    fact('Floors', 'floors', house.floors, FORMATS.plain),
    fact('Year built', 'year-built', listing.yearBuilt, FORMATS.plain),
    fact('Renovated', 'year-renovated', house.yearRenovated ?? 'never', FORMATS.plain),
    fact('Waterfront', 'waterfront', house.waterfront ? 'yes' : 'no', FORMATS.plain),
    fact('View', 'view', `${house.view} of 4`, FORMATS.plain),
    fact('Condition', 'condition', `${house.condition} of 5`, FORMATS.plain),
    fact('Grade', 'grade', `${house.grade} of 13`, FORMATS.plain),
    `<dt>Listed</dt><dd data-field="listed-on"><time datetime="${house.listedOn}">${longDate.format(new Date(house.listedOn))}</time></dd>`,
    `<dt>Location</dt><dd data-field="coordinates" data-lat="${house.latitude}" data-lon="${house.longitude}">${house.latitude}, ${house.longitude}</dd>`,
  ].join('');
}

/** A server-rendered detail page. */
export function detailPage(listing: PublishedListing): string {
  const { house } = listing;
  const address = shown(listing.address, FORMATS.plain);
  return layout(
    address ?? `Listing ${house.id}`,
    `<main><article class="listing-detail" data-listing-id="${house.id}">
<img class="photo" src="/photos/${house.id}.svg" alt="" width="640" height="400">
${address === null ? '' : `<h1 class="address">${address}</h1>`}
${location(listing)}
${element('p', 'price', listing.price, FORMATS.money)}
<dl class="facts">${detailFacts(listing)}</dl>
</article><p><a href="/static/listings">All listings</a></p></main>`,
  );
}

/** The JavaScript variant's page shell: the script fetches the data and renders the same markup. */
export function appShell(view: 'list' | 'detail', key: string): string {
  return layout(view === 'list' ? `Homes for sale, page ${key}` : `Listing ${key}`, `<main id="app" data-view="${view}" data-key="${escapeHtml(key)}"><p class="loading">Loading…</p></main>`, '/app/app.js');
}

/** The site's front page. */
export function indexPage(total: number, pageSize: number): string {
  return layout(
    'Home',
    `<main><h1>King County Homes</h1><p>${integer.format(total)} homes, ${pageSize} a page.</p>
<ul><li><a href="/static/listings?page=1">Browse listings</a> (HTML)</li><li><a href="/app/listings?page=1">Browse listings</a> (rendered by JavaScript)</li></ul></main>`,
  );
}

/** A listing as the JSON API of the JavaScript variant returns it: numbers as numbers, faults as strings, missing fields absent. */
export function listingJson(listing: PublishedListing): Record<string, unknown> {
  const { house } = listing;
  const json: Record<string, unknown> = {
    id: house.id,
    city: house.city,
    state: 'WA',
    floors: house.floors,
    yearRenovated: house.yearRenovated,
    waterfront: house.waterfront,
    view: house.view,
    condition: house.condition,
    grade: house.grade,
    listedOn: house.listedOn,
    latitude: house.latitude,
    longitude: house.longitude,
  };
  for (const field of ['address', 'price', 'bedrooms', 'bathrooms', 'livingArea', 'lotSize', 'yearBuilt', 'zip'] as const) {
    if (listing[field] !== null) json[field] = listing[field];
  }
  return json;
}

/** A small picture for each listing (an SVG house coloured by its parcel number), so pages have images to load. */
export function photoSvg(house: Pick<House, 'id'>): string {
  const hue = Number(house.id.slice(-3)) % 360;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="150" viewBox="0 0 240 150"><rect width="240" height="150" fill="hsl(${hue},40%,85%)"/><path d="M70 80 L120 40 L170 80 V130 H70 Z" fill="hsl(${hue},35%,45%)"/><rect x="108" y="98" width="24" height="32" fill="#fff"/></svg>`;
}

/** The site's stylesheet. */
export const SITE_CSS = `body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#222}
header{border-bottom:1px solid #ddd;padding-bottom:.5rem;margin-bottom:1rem}
.listings{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:1rem}
.listing{border:1px solid #ddd;border-radius:6px;padding:.5rem}.listing h2{font-size:1rem;margin:.25rem 0}
.price{font-weight:600;font-size:1.1rem}.facts{display:flex;gap:.75rem;list-style:none;padding:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}.pagination{display:flex;gap:1rem;margin:1rem 0}
`;
