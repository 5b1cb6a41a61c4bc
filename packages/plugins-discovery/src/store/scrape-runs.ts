import { sql, type Kysely, type Selectable } from 'kysely';
import type { DiscoveryTables, ScrapeRunTable } from './tables.js';

/** A row of `discovery.scrape_run`. */
export type ScrapeRun = Selectable<ScrapeRunTable>;

/** Who started a scrape: the task try, when run by a DAG. */
export interface ScrapeOrigin {
  readonly dagId?: string;
  readonly runId?: string;
  readonly taskId?: string;
  readonly tryNumber?: number;
}

/** Record that a scrape started; returns its id. */
export async function startScrapeRun(
  db: Kysely<DiscoveryTables>,
  scrape: { config: string; county: string; source: string; renderer: string },
  origin: ScrapeOrigin = {},
): Promise<number> {
  const row = await db
    .insertInto('discovery.scrape_run')
    .values({
      config: scrape.config,
      county: scrape.county,
      source: scrape.source,
      renderer: scrape.renderer,
      dag_id: origin.dagId ?? null,
      run_id: origin.runId ?? null,
      task_id: origin.taskId ?? null,
      try_number: origin.tryNumber ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Record how a scrape ended, with its stats (and the error when it failed). */
export async function finishScrapeRun(db: Kysely<DiscoveryTables>, id: number, outcome: { state: 'success' | 'failed'; stats: unknown; error?: string }): Promise<void> {
  await db
    .updateTable('discovery.scrape_run')
    .set({ state: outcome.state, finished_at: sql`now()`, stats: JSON.stringify(outcome.stats), error: outcome.error ?? null })
    .where('id', '=', id)
    .execute();
}

/** Store a scrape's validation metrics. */
export async function saveScrapeMetrics(db: Kysely<DiscoveryTables>, id: number, metrics: unknown): Promise<void> {
  await db.updateTable('discovery.scrape_run').set({ metrics: JSON.stringify(metrics) }).where('id', '=', id).execute();
}

/** A scrape by id, or the latest successful one of a config in a DAG run. */
export async function findScrapeRun(db: Kysely<DiscoveryTables>, by: { id: number } | { config: string; dagId: string; runId: string }): Promise<ScrapeRun | undefined> {
  let query = db.selectFrom('discovery.scrape_run').selectAll();
  query = 'id' in by ? query.where('id', '=', by.id) : query.where('config', '=', by.config).where('dag_id', '=', by.dagId).where('run_id', '=', by.runId).where('state', '=', 'success');
  return query.orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/** The latest scrapes, newest first (for the plugin's routes). */
export async function listScrapeRuns(db: Kysely<DiscoveryTables>, options: { config?: string; limit?: number } = {}): Promise<ScrapeRun[]> {
  let query = db.selectFrom('discovery.scrape_run').selectAll();
  if (options.config) query = query.where('config', '=', options.config);
  return query.orderBy('id', 'desc').limit(options.limit ?? 50).execute();
}
