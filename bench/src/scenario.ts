import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Tributary, type EngineConfig } from '@tributary/engine';
import type { BenchPostgres } from './postgres.js';
import type { BenchResult } from './report.js';

/** What a scenario gets. */
export interface ScenarioContext {
  postgres: BenchPostgres;
  /** The one-minute smoke version: smaller sizes, same code paths. */
  quick: boolean;
  log(message: string): void;
  /** With `--cpu-prof`: the folder CPU profiles of Tributary's processes go to; null without. */
  profileDir: string | null;
}

/** A benchmark scenario: measures one thing for one or more systems. */
export interface Scenario {
  name: string;
  description: string;
  run(ctx: ScenarioContext): Promise<BenchResult[]>;
}

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A folder for generated DAG files, inside the bench package so they resolve `@tributary/engine`. */
export function workFolder(name: string): { dir: string; write(file: string, source: string): string; remove(): void } {
  const dir = join(BENCH_DIR, '.work', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    write: (file, source) => {
      const path = join(dir, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, source);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Create (or widen) a pool with unlimited slots, so pool gating does not cap a scenario. */
export async function unlimitedPool(engine: Tributary, name: string): Promise<void> {
  await engine.db
    .insertInto('tributary.pool')
    .values({ name, slots: -1, description: 'benchmarks' })
    .onConflict((oc) => oc.column('name').doUpdateSet({ slots: -1 }))
    .execute();
}

/** Open a quiet engine on a fresh database. */
export async function benchEngine(
  ctx: ScenarioContext,
  options: EngineConfig,
): Promise<{ engine: Tributary; databaseUrl: string; close(): Promise<void> }> {
  const database = await ctx.postgres.freshDatabase();
  const engine = await Tributary.open({
    logger: pino({ level: process.env.TRIBUTARY_BENCH_LOG_LEVEL ?? 'silent' }),
    projectDir: BENCH_DIR,
    ...options,
    databaseUrl: database.url,
  });
  return {
    engine,
    databaseUrl: database.url,
    close: async () => {
      await engine.close();
      await database.drop();
    },
  };
}
