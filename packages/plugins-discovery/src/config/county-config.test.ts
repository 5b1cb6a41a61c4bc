import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigFileError, parseConfigText } from '@tributary/engine';
import { describe, expect, it } from 'vitest';
import { countyConfigSchema, DEFAULT_LIMITS, DEFAULT_USER_AGENT } from './county-config.js';

const COUNTIES = fileURLToPath(new URL('../../../../dags/config/counties/', import.meta.url));
const minimal = `county: king_wa
name: King County
state: WA
source: kc-homes
renderer: static
site: { baseUrl: 'http://127.0.0.1:8790/static/', startUrls: ['listings?page=1'] }
list:
  itemSelector: article.listing
  fields:
    sourceId: { attribute: data-listing-id }
`;

function problems(text: string): ConfigFileError['problems'] {
  try {
    parseConfigText(text, countyConfigSchema, 'counties/x.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return (error as ConfigFileError).problems;
  }
  throw new Error('expected the config to be invalid');
}

describe('countyConfigSchema', () => {
  it.each(['king_wa', 'king_wa_browser'])('accepts the shipped %s.yaml', (id) => {
    const config = parseConfigText(readFileSync(`${COUNTIES}${id}.yaml`, 'utf8'), countyConfigSchema, `${id}.yaml`);
    expect(config.county).toBe('king_wa');
  });

  it('fills in polite defaults', () => {
    const config = parseConfigText(minimal, countyConfigSchema, 'x.yaml');
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config).toMatchObject({ robotsTxt: 'respect', userAgent: DEFAULT_USER_AGENT, validation: { minListings: 1, minCompleteness: {} }, browser: { blockResources: ['image', 'font', 'stylesheet', 'media'] } });
  });

  it('names the line and field of a misspelt field, a bad renderer and a bad rate limit', () => {
    const found = problems(minimal.replace('renderer: static', 'renderer: chrome').replace('sourceId:', 'sourceid:') + 'limits: { requestsPerSecond: fast }\n');
    expect(found).toEqual([
      { field: 'renderer', line: 5, column: 11, message: 'expected one of "static"|"browser", got "chrome"' },
      { field: 'list.fields', line: 10, column: 5, message: "unknown key 'sourceid' (check the spelling)" },
      { field: 'limits.requestsPerSecond', line: 11, column: 30, message: 'expected number, received string' },
    ]);
  });

  it('rejects a bad regular expression in a transform', () => {
    const [problem] = problems(minimal + '    zip: { selector: .zip, transform: { regex: "(\\\\d{5}" } }\n');
    expect(problem).toMatchObject({ field: 'list.fields.zip.transform.regex', message: expect.stringMatching(/^not a valid regular expression/) });
  });

  it('requires a source id, a detail link for detail pages, and waits only for browsers', () => {
    const text = minimal.replace('    sourceId: { attribute: data-listing-id }\n', '    price: .price\n').replace('  fields:', '  waitForSelector: main\n  fields:') + 'detail:\n  fields: { beds: .beds }\n';
    expect(problems(text).map((p) => `${p.field}: ${p.message}`)).toEqual([
      'list.fields: needs sourceId (in list.fields or detail.fields) to deduplicate listings; got none',
      'list: needs detailLinkSelector to reach the detail pages that `detail` describes; got none',
      'list.waitForSelector: applies only to renderer: browser; got renderer: static',
    ]);
  });
});
