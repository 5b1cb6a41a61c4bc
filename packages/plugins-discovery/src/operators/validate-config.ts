import { access, constants } from 'node:fs/promises';
import { TributaryError, type PluginRuntime, type TaskContext } from '@tributary/engine';
import { DEFAULT_CHROMIUM_PATH, startUrlsOf } from '../crawl/options.js';
import type { z } from 'zod';
import type { validateConfigArgs } from './args.js';
import { countyConfigFor, stringParam } from './context.js';
import type { ValidateConfigResult } from './results.js';

/**
 * `discovery.validateConfig`: read and validate the county config, and check that a browser
 * config's Chromium is installed.
 */
export async function validateConfig(args: z.output<typeof validateConfigArgs>, context: TaskContext, runtime: PluginRuntime): Promise<ValidateConfigResult> {
  const { id, file, config } = await countyConfigFor('validateConfig', args, context, runtime);
  if (config.renderer === 'browser') {
    await access(DEFAULT_CHROMIUM_PATH, constants.X_OK).catch(() => {
      throw new TributaryError('DISCOVERY_NO_BROWSER', `${file}: renderer 'browser' needs Chromium, not found at ${DEFAULT_CHROMIUM_PATH} (install it, or set CHROMIUM_PATH)`);
    });
  }
  const startUrls = startUrlsOf(config, stringParam(context, 'baseUrl'));
  context.log.info({ config: id, file, renderer: config.renderer, startUrls }, `county config ${id} is valid`);
  return {
    config: id,
    file,
    county: config.county,
    name: config.name,
    state: config.state,
    source: config.source,
    renderer: config.renderer,
    startUrls,
    maxPagesPerRun: config.limits.maxPagesPerRun,
    requestsPerSecond: config.limits.requestsPerSecond,
    maxConcurrency: config.limits.maxConcurrency,
  };
}
