import { readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { readConfigFile } from '@tributary/engine';
import { CountyConfigNotFoundError } from '../errors.js';
import { countyConfigSchema, type CountyConfig } from './county-config.js';

/** Folder of the county configs, relative to the project directory. */
export const DEFAULT_COUNTIES_DIR = 'dags/config/counties';

/** A county config read from its file. */
export interface LoadedCountyConfig {
  /** The config's id: its file name without `.yaml`. */
  readonly id: string;
  /** The file, relative to the project directory when inside it. */
  readonly file: string;
  readonly config: CountyConfig;
}

function configIds(files: readonly string[]): string[] {
  return files.filter((name) => /\.ya?ml$/.test(name)).map((name) => name.replace(/\.ya?ml$/, '')).sort();
}

/** Ids of the county configs in `dir` (`*.yaml` and `*.yml` files), sorted. */
export async function listCountyConfigs(dir: string): Promise<string[]> {
  return configIds(await readdir(dir).catch(() => []));
}

/**
 * Read and validate the county config `id` from `configDir` (relative to `projectDir`). Throws
 * {@link CountyConfigNotFoundError} listing the configs there when there is no such file, and the
 * engine's `ConfigFileError` (file, line, column, field, what was expected) when it is invalid.
 */
export async function loadCountyConfig(id: string, options: { projectDir: string; configDir?: string }): Promise<LoadedCountyConfig> {
  const dir = resolve(options.projectDir, options.configDir ?? DEFAULT_COUNTIES_DIR);
  const inProject = relative(options.projectDir, dir);
  const shownDir = inProject.startsWith('..') || isAbsolute(inProject) ? dir : inProject || '.';
  const files = await readdir(dir).catch(() => [] as string[]);
  const file = /^[a-z][a-z0-9_]*$/.test(id) ? files.find((name) => name === `${id}.yaml` || name === `${id}.yml`) : undefined;
  if (!file) throw new CountyConfigNotFoundError(id, shownDir, configIds(files));
  const path = join(dir, file);
  const config = await readConfigFile(path, countyConfigSchema, options.projectDir);
  return { id, file: relative(options.projectDir, path), config };
}
