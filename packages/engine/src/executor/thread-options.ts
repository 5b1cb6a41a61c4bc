import type { OptionProblem } from './kubernetes-options.js';

/** Check a task's `executorConfig` for the `thread` executor: `{ memoryLimitMb?: integer >= 16 }`. @internal */
export function validateThreadConfig(value: unknown): OptionProblem | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { path: '', message: `expected an object such as { memoryLimitMb: 512 }, got ${Array.isArray(value) ? 'an array' : typeof value}` };
  }
  const unknown = Object.keys(value).filter((key) => key !== 'memoryLimitMb');
  if (unknown.length > 0) return { path: unknown[0]!, message: `unknown setting of the thread executor (expected memoryLimitMb)` };
  const limit = (value as { memoryLimitMb?: unknown }).memoryLimitMb;
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) >= 16)) {
    return { path: 'memoryLimitMb', message: `expected an integer of at least 16 (MB), got ${JSON.stringify(limit)}` };
  }
  return null;
}
