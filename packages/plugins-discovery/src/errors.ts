import { TributaryError } from '@tributary/engine';

/** No county config with that id: names the folder searched and the configs it has. */
export class CountyConfigNotFoundError extends TributaryError {
  readonly county: string;

  constructor(county: string, folder: string, known: readonly string[]) {
    super('DISCOVERY_COUNTY_UNKNOWN', `county '${county}': no config file ${folder}/${county}.yaml (configs there: ${known.join(', ') || 'none'})`, {
      location: { file: `${folder}/${county}.yaml`, field: 'county' },
    });
    this.county = county;
  }
}

/** A scrape could not read the site: every start page failed, or list pages failed after their retries. */
export class ScrapeFailedError extends TributaryError {
  readonly county: string;

  constructor(county: string, message: string) {
    super('DISCOVERY_SCRAPE_FAILED', `county '${county}': ${message}`);
    this.county = county;
  }
}

/** A scrape's data did not pass its county's validation; the metrics are stored with the scrape either way. */
export class ScrapeValidationError extends TributaryError {
  readonly county: string;
  readonly failedChecks: readonly { name: string; detail: string }[];

  constructor(county: string, failedChecks: readonly { name: string; detail: string }[]) {
    super('DISCOVERY_SCRAPE_INVALID', `county '${county}': the scrape failed validation: ${failedChecks.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
    this.county = county;
    this.failedChecks = failedChecks;
  }
}
