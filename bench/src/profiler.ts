import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

/**
 * Run `work` under V8's sampling CPU profiler when `dir` is set (`pnpm bench --cpu-prof`), writing
 * `<dir>/<label>.cpuprofile` (open it in Chrome DevTools or summarise it with `pnpm --dir bench
 * profile-summary <file>`); without `dir` just run it. Profiles only the part of the bench process
 * that runs Tributary, not the baselines around it.
 */
export async function profiled<T>(dir: string | null, label: string, work: () => Promise<T>): Promise<T> {
  if (!dir) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${label}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    process.stderr.write(`  cpu profile: ${file}\n`);
  }
}

/**
 * Node options that make a child process write a CPU profile named `<label>.cpuprofile` into `dir`
 * when it exits; none without `dir`.
 */
export function childProfileArgs(dir: string | null, label: string): string[] {
  if (!dir) return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${label}.cpuprofile`, '--cpu-prof-interval=200'];
}
