import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { PokeResult } from '../dag/sensor-options.js';
import type { TaskContext } from '../dag/types.js';
import type { FileSensorArgs } from './sensor-args.js';

/** Matches reported in the sensor's result. */
const MAX_REPORTED = 100;

/** A file, or a directory with a file somewhere inside (Airflow's FileSensor counts those too). */
async function satisfies(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (info.isFile()) return true;
    if (!info.isDirectory()) return false;
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    return entries.some((e) => e.isFile());
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

/** Split a glob into the directory it starts from and the pattern below it. */
function splitGlob(path: string): { cwd: string; pattern: string } {
  const parts = path.split('/');
  const firstDynamic = parts.findIndex((p) => isDynamicPattern(p));
  return { cwd: parts.slice(0, firstDynamic).join('/') || '/', pattern: parts.slice(firstDynamic).join('/') };
}

/**
 * `fileSensor`: done when the path exists on the worker, or the glob matches a file or a directory
 * holding one (Airflow's `FileSensor`). Its result lists the matches (at most 100).
 */
export async function pokeFile(args: FileSensorArgs, context: Pick<TaskContext, 'log'>, projectDir: string): Promise<PokeResult<{ files: string[] }>> {
  const full = isAbsolute(args.path) ? args.path : resolve(projectDir, args.path);
  let matches: string[];
  if (!isDynamicPattern(full)) {
    matches = (await satisfies(full)) ? [full] : [];
  } else {
    const { cwd, pattern } = splitGlob(full);
    const candidates = await glob(pattern, { cwd, absolute: true, onlyFiles: false, dot: true, expandDirectories: false });
    matches = [];
    for (const candidate of candidates.sort()) {
      if (await satisfies(candidate)) matches.push(candidate.replace(/\/$/, ''));
      if (matches.length >= MAX_REPORTED) break;
    }
  }
  context.log.info(matches.length > 0 ? `Found ${matches.length === MAX_REPORTED ? 'at least ' : ''}${matches.length} match(es) for ${full}` : `Nothing at ${full} yet`);
  return matches.length > 0 ? { done: true, value: { files: matches } } : { done: false };
}
