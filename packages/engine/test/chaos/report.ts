import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_DIR } from '../support/common.js';
import type { ScenarioFigures } from './scenario.js';

/** Where the last run's figures are written, a file per test file (`figures-<name>.json`). */
export const FIGURES_DIR = join(PACKAGE_DIR, '../../artifacts/chaos');

/** Totals of one scenario over every time it ran (recovery: the longest). */
export type ScenarioTotals = Omit<ScenarioFigures, 'problems'> & { rounds: number };

const SUMMED = ['faults', 'runs', 'runsSucceeded', 'taskInstances', 'executions', 'duplicates', 'doubleSuccesses', 'overlaps', 'lostResults', 'crashes', 'durationMs'] as const;

/** Add up figures per scenario (in the order scenarios first appear); recovery is the maximum. */
export function totalsOf(figures: readonly ScenarioFigures[]): ScenarioTotals[] {
  const totals = new Map<string, ScenarioTotals>();
  for (const f of figures) {
    const t = totals.get(f.scenario) ?? { scenario: f.scenario, rounds: 0, faults: 0, runs: 0, runsSucceeded: 0, taskInstances: 0, executions: 0, duplicates: 0, doubleSuccesses: 0, overlaps: 0, lostResults: 0, crashes: 0, maxRecoveryMs: 0, durationMs: 0 };
    t.rounds++;
    for (const key of SUMMED) t[key] += f[key];
    t.maxRecoveryMs = Math.max(t.maxRecoveryMs, f.maxRecoveryMs);
    totals.set(f.scenario, t);
  }
  return [...totals.values()];
}

/** A Markdown table of the totals, with how and where they were measured. */
export function markdownTable(totals: readonly ScenarioTotals[], how: string): string {
  const seconds = (ms: number): string => (ms === 0 ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const rows = totals.map(
    (t) =>
      `| ${t.scenario} | ${t.rounds} | ${t.faults} | ${t.runsSucceeded} / ${t.runs} | ${t.taskInstances} | ${t.executions} | ${t.duplicates} | ${t.doubleSuccesses} | ${t.overlaps} | ${t.lostResults} | ${t.crashes} | ${seconds(t.maxRecoveryMs)} |`,
  );
  return [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${how}, on ${cpus().length} CPUs / ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}.`,
    '',
    '| fault | rounds | faults injected | runs succeeded | task instances | executions | duplicates | successes recorded twice | overlapping executions | results lost | process crashes | max recovery |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Write the figures of a run to `figures-<name>.json` in {@link FIGURES_DIR}, with how they were produced. */
export function recordFigures(figures: readonly ScenarioFigures[], how: string, name: string): void {
  if (figures.length === 0) return;
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `figures-${name}.json`), JSON.stringify({ how, at: new Date().toISOString(), figures }, null, 2));
}

const START = '<!-- chaos-figures:start -->';
const END = '<!-- chaos-figures:end -->';

/** Replace the figures table between the markers of `docPath` (docs/reliability.md). */
export function updateReliabilityDoc(docPath: string, table: string): void {
  const doc = readFileSync(docPath, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${docPath}: missing the ${START} … ${END} markers`);
  writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${table}\n${doc.slice(end)}`);
}
