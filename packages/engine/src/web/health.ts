import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** What `/healthz` reports. */
export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  database: { status: 'healthy' | 'unhealthy'; latencyMs?: number; error?: string };
  scheduler: { status: 'healthy' | 'unhealthy'; latestHeartbeat: string | null; heartbeatAgeSeconds: number | null };
  workers: { status: 'healthy' | 'unhealthy'; alive: number; latestHeartbeat: string | null; heartbeatAgeSeconds: number | null };
}

/** Thresholds of {@link checkHealth}. */
export interface HealthThresholds {
  /** A scheduler (or worker) whose last heartbeat is older than this counts as gone. */
  heartbeatTimeoutMs: number;
}

/**
 * Check the metadata database, the age of the latest scheduler heartbeat and the workers that
 * reported recently. Unhealthy when the database is unreachable, no scheduler heart-beat within
 * the timeout, or no worker did.
 */
export async function checkHealth(db: Kysely<Database>, thresholds: HealthThresholds): Promise<HealthReport> {
  const started = performance.now();
  let rows: { kind: string; latest: Date | null; alive: number }[];
  try {
    const result = await sql<{ kind: string; latest: Date | null; alive: number }>`
      SELECT kind, max(heartbeat_at) AS latest,
             count(*) FILTER (WHERE heartbeat_at > now() - make_interval(secs => ${thresholds.heartbeatTimeoutMs / 1000}))::int AS alive
        FROM tributary.process WHERE stopped_at IS NULL AND kind IN ('scheduler', 'worker')
       GROUP BY kind`.execute(db);
    rows = result.rows;
  } catch (error) {
    return {
      status: 'unhealthy',
      database: { status: 'unhealthy', error: error instanceof Error ? error.message : String(error) },
      scheduler: { status: 'unhealthy', latestHeartbeat: null, heartbeatAgeSeconds: null },
      workers: { status: 'unhealthy', alive: 0, latestHeartbeat: null, heartbeatAgeSeconds: null },
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const age = (date: Date | null | undefined): number | null => (date ? Math.max(0, (Date.now() - date.getTime()) / 1000) : null);
  const of = (kind: string) => rows.find((r) => r.kind === kind);
  const scheduler = of('scheduler');
  const workers = of('worker');
  const report: HealthReport = {
    status: 'healthy',
    database: { status: 'healthy', latencyMs },
    scheduler: {
      status: (scheduler?.alive ?? 0) > 0 ? 'healthy' : 'unhealthy',
      latestHeartbeat: scheduler?.latest?.toISOString() ?? null,
      heartbeatAgeSeconds: age(scheduler?.latest),
    },
    workers: {
      status: (workers?.alive ?? 0) > 0 ? 'healthy' : 'unhealthy',
      alive: workers?.alive ?? 0,
      latestHeartbeat: workers?.latest?.toISOString() ?? null,
      heartbeatAgeSeconds: age(workers?.latest),
    },
  };
  if (report.scheduler.status === 'unhealthy' || report.workers.status === 'unhealthy') report.status = 'unhealthy';
  return report;
}
