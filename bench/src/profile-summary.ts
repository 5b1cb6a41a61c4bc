// Summarise V8 .cpuprofile files (from `pnpm bench --cpu-prof`): the functions with the most self
// time, and self time by module (a package, or a folder of the engine).
// Usage: pnpm --dir bench profile-summary <file.cpuprofile>... [--top 30]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a script belongs: `pkg:<name>` for dependencies, `engine/<folder>` for the engine, else its file. */
function moduleOf(url: string): string {
  if (!url) return '(native)';
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `pkg:${dep[1]}`;
  const engine = /packages\/engine\/src\/([^/]+)/.exec(url);
  if (engine) return `engine/${engine[1]!.replace(/\.ts$/, '')}`;
  if (url.startsWith('node:')) return 'node:internal';
  return basename(url);
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += us;
    const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const module = url ? moduleOf(url) : functionName;
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const busy = total - idle;
  const line = (us: number, label: string): string =>
    `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${label}`;
  process.stdout.write(`\n${file}: ${(total / 1000).toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy (% of busy)\n`);
  process.stdout.write('\nself time by module:\n');
  for (const [module, us] of [...byModule].filter(([m]) => m !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${line(us, module)}\n`);
  }
  process.stdout.write('\nself time by function:\n');
  for (const [name, us] of [...byFunction].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${line(us, name)}\n`);
  }
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
if (args.length === 0) {
  process.stderr.write('usage: profile-summary <file.cpuprofile>... [--top 30]\n');
  process.exit(2);
}
for (const file of args) summarise(file, top);
