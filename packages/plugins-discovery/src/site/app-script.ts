/**
 * The JavaScript variant's client script, served as `/app/app.js`: it reads the view from the page
 * shell, fetches `/api/listings?page=N` or `/api/listings/<id>`, and renders the same markup the
 * static variant's server renders. When done it sets `data-ready` on `<main>` (what a browser
 * crawler waits for); when the API fails it sets `data-error` to the status.
 * @internal
 */
export const APP_SCRIPT = String.raw`(() => {
  const main = document.getElementById('app');
  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  const longDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const shown = (value, format) => (value === undefined || value === null ? null : esc(typeof value === 'number' ? format(value) : value));
  const el = (tag, cls, value, format) => { const t = shown(value, format); return t === null ? '' : '<' + tag + ' class="' + cls + '">' + t + '</' + tag + '>'; };
  const fact = (label, field, value, format) => { const t = shown(value, format); return t === null ? '' : '<dt>' + label + '</dt><dd data-field="' + field + '">' + t + '</dd>'; };
  const plain = (n) => String(n);
  const money = (n) => '$' + integer.format(n);
  const area = (n) => integer.format(n) + ' sqft';
  const location = (l) => { const zip = el('span', 'zip', l.zip, plain); return '<p class="location"><span class="city">' + esc(l.city) + '</span>, <span class="state">WA</span>' + (zip ? ' ' + zip : '') + '</p>'; };
  const card = (l) => {
    const href = '/app/listings/' + l.id;
    const address = shown(l.address, plain);
    return '<li><article class="listing" data-listing-id="' + l.id + '">' +
      '<a class="photo-link" href="' + href + '"><img class="photo" src="/photos/' + l.id + '.svg" alt="" width="240" height="150"></a>' +
      '<h2><a class="listing-link" href="' + href + '">' + (address === null ? 'View listing' : '<span class="address">' + address + '</span>') + '</a></h2>' +
      location(l) + el('p', 'price', l.price, money) +
      '<ul class="facts">' + el('li', 'beds', l.bedrooms, (n) => n + ' bd') + el('li', 'baths', l.bathrooms, (n) => decimal.format(n) + ' ba') + el('li', 'sqft', l.livingArea, area) + '</ul>' +
      '</article></li>';
  };
  const list = (data) => {
    const page = data.page, pages = data.pages;
    const prev = page > 1 ? '<a rel="prev" href="/app/listings?page=' + (page - 1) + '">Previous</a>' : '';
    const next = page < pages ? '<a rel="next" href="/app/listings?page=' + (page + 1) + '">Next</a>' : '';
    return '<h1>Homes for sale <small>' + integer.format(data.total) + ' listings</small></h1><ol class="listings">' + data.items.map(card).join('') + '</ol>' +
      '<nav class="pagination"><span class="page-info">Page ' + page + ' of ' + pages + '</span> ' + prev + ' ' + next + '</nav>';
  };
  const detail = (l) => {
    const address = shown(l.address, plain);
    return '<article class="listing-detail" data-listing-id="' + l.id + '"><img class="photo" src="/photos/' + l.id + '.svg" alt="" width="640" height="400">' +
      (address === null ? '' : '<h1 class="address">' + address + '</h1>') + location(l) + el('p', 'price', l.price, money) + '<dl class="facts">' +
      fact('Bedrooms', 'bedrooms', l.bedrooms, plain) + fact('Bathrooms', 'bathrooms', l.bathrooms, (n) => decimal.format(n)) +
      fact('Living area', 'living-area', l.livingArea, area) + fact('Lot size', 'lot-size', l.lotSize, area) + fact('Floors', 'floors', l.floors, plain) +
      fact('Year built', 'year-built', l.yearBuilt, plain) + fact('Renovated', 'year-renovated', l.yearRenovated === null ? 'never' : l.yearRenovated, plain) +
      fact('Waterfront', 'waterfront', l.waterfront ? 'yes' : 'no', plain) + fact('View', 'view', l.view + ' of 4', plain) +
      fact('Condition', 'condition', l.condition + ' of 5', plain) + fact('Grade', 'grade', l.grade + ' of 13', plain) +
      '<dt>Listed</dt><dd data-field="listed-on"><time datetime="' + l.listedOn + '">' + longDate.format(new Date(l.listedOn)) + '</time></dd>' +
      '<dt>Location</dt><dd data-field="coordinates" data-lat="' + l.latitude + '" data-lon="' + l.longitude + '">' + l.latitude + ', ' + l.longitude + '</dd>' +
      '</dl></article><p><a href="/app/listings?page=1">All listings</a></p>';
  };
  const view = main.dataset.view, key = main.dataset.key;
  const url = view === 'list' ? '/api/listings?page=' + encodeURIComponent(key) : '/api/listings/' + encodeURIComponent(key);
  fetch(url).then((response) => {
    if (!response.ok) throw Object.assign(new Error('HTTP ' + response.status), { status: response.status });
    return response.json();
  }).then((data) => {
    main.innerHTML = view === 'list' ? list(data) : detail(data);
    main.dataset.ready = 'true';
  }, (error) => {
    main.innerHTML = '<p class="error">Could not load the listings (' + esc(error.message) + ').</p>';
    main.dataset.error = String(error.status || 'network');
  });
})();
`;
