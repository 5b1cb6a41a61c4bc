/**
 * The local listings site of the discovery demo and tests: real King County sales published as
 * paginated listing and detail pages, server-rendered and JavaScript-rendered.
 * @packageDocumentation
 */
export { APP_SCRIPT } from './app-script.js';
export { demoFaults, type FaultyField, type ListingFault } from './faults.js';
export { KING_COUNTY_SALES_FILE, kingCountyHouses, loadHouses, parcelAddress, type House } from './houses.js';
export type { SiteVariant } from './pages.js';
export { DEFAULT_LISTINGS_SITE_PORT, listingsSiteEnv, listingsSitePlugin } from './plugin.js';
export { startListingsSite, type ListingsSite, type ListingsSiteOptions, type SiteRequest, type SiteRequestKind } from './server.js';
export { listingsSitePlugin as default } from './plugin.js';
