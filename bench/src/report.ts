import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';

/** One measured (or quoted) figure. */
export interface BenchResult {
  scenario: string;
  system: string;
  metric: string;
  value: number;
  unit: string;
  /** Set for figures quoted from publications, never measured here. */
  note?: string;
}

/** Machine facts recorded with the results. */
export function machineInfo(postgres: string): { cpus: number; memory: string; node: string; postgres: string } {
  return { cpus: cpus().length, memory: `${Math.round(totalmem() / 2 ** 30)} GiB`, node: process.version, postgres };
}

/** Print results as an aligned table, grouped by scenario. */
export function printTable(results: readonly BenchResult[]): void {
  const rows = results.map((r) => [r.scenario, r.system, r.metric, formatValue(r.value), r.unit, r.note ?? '']);
  const head = ['scenario', 'system', 'metric', 'value', 'unit', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/**
 * Write `{ machine, results }` as JSON to `path`, relative to where the command was typed (`pnpm bench`
 * runs in bench/), creating its folder.
 */
export function writeJson(path: string, machine: ReturnType<typeof machineInfo>, results: readonly BenchResult[]): void {
  const target = resolve(process.env.INIT_CWD ?? process.cwd(), path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify({ machine, results }, null, 2)}\n`);
}

/** The p-th percentile (0-100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
