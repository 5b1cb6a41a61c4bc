import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineConfig } from '../config.js';
import { ConfigError } from '../errors.js';

/** Name of the optional project configuration file, read from the current directory. */
export const PROJECT_CONFIG_FILE = 'tributary.config.json';

/**
 * Read `tributary.config.json` from `projectDir` if present (engine options as JSON; relative paths are
 * relative to that directory). Throws {@link ConfigError} naming the file when it is not valid JSON.
 */
export function readProjectConfig(projectDir: string): EngineConfig {
  const path = join(projectDir, PROJECT_CONFIG_FILE);
  if (!existsSync(path)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${PROJECT_CONFIG_FILE}: not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${PROJECT_CONFIG_FILE}: expected a JSON object of engine options`);
  }
  const { $schema: _ignored, ...options } = value as Record<string, unknown>;
  return options as EngineConfig;
}
