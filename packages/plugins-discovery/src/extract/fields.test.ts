import { load } from 'cheerio';
import { describe, expect, it } from 'vitest';
import { extractFields, mergeFields } from './fields.js';

const html = `<ol><li><article class="listing" data-listing-id="9106000005">
  <h2><a class="listing-link" href="/static/listings/9106000005"><span class="address">Parcel 910600-0005</span></a></h2>
  <p class="location"><span class="city">Seattle</span>, WA <span class="zip">98115</span></p>
  <p class="price">
    $1,310,000
  </p>
  <ul class="facts"><li class="beds">4 bd</li></ul>
</article></li></ol>`;

describe('extractFields', () => {
  const $ = load(html);
  const item = $('article.listing');
  const url = 'http://site.test/static/listings?page=1';

  it('reads text (whitespace collapsed) or an attribute, of the item or an element in it, and transforms it', () => {
    const { fields, extra } = extractFields($, item, {
      sourceId: { attribute: 'data-listing-id' },
      address: '.address',
      price: { selector: '.price', transform: 'number' },
      beds: { selector: '.beds', transform: 'number' },
      listingUrl: { selector: 'a.listing-link', attribute: 'href', transform: 'absoluteUrl' },
      extra: { city: '.city' },
    }, url);
    expect(fields).toEqual({ sourceId: '9106000005', address: 'Parcel 910600-0005', price: 1_310_000, beds: 4, listingUrl: 'http://site.test/static/listings/9106000005' });
    expect(extra).toEqual({ city: 'Seattle' });
  });

  it('gives null for a field the page does not have', () => {
    expect(extractFields($, item, { baths: '.baths', ownerName: { selector: '.owner', attribute: 'title' } }, url).fields).toEqual({ baths: null, ownerName: null });
  });

  it('lets the detail page win over the list item, except where it has nothing', () => {
    const merged = mergeFields({ fields: { price: 100, address: 'A' }, extra: { x: 1 } }, { fields: { price: 120, address: null, beds: 3 }, extra: {} });
    expect(merged).toEqual({ fields: { price: 120, address: 'A', beds: 3 }, extra: { x: 1 } });
  });
});
