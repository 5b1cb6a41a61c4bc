import { sql, type Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Database } from '../db/schema.js';
import { listPools } from '../service/pools.js';

/** Task instances (newest by id) the queued→start delay is computed over. */
const DELAY_SAMPLE = 10_000;
/** Started within this window count towards the queued→start delay. */
const DELAY_WINDOW_SECONDS = 300;
const QUANTILES = [0.5, 0.9, 0.99];

interface Snapshot {
  schedulers: { id: string; loopMs: number | null; loopMaxMs: number | null; ageSeconds: number }[];
  workersAlive: number;
  queuedDelay: { quantiles: (number | null)[]; count: number };
  scheduleDelay: { dagId: string; seconds: number }[];
  pools: { name: string; open: number; queued: number; running: number; scheduled: number }[];
  importErrors: number;
  failedTries: number;
  runs: { state: string; count: number }[];
  taskInstances: { state: string; count: number }[];
}

/** Task-instance states that can still change and are counted, each through its partial index. */
const ACTIVE_TASK_STATES = ['scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule'] as const;

async function snapshot(db: Kysely<Database>, heartbeatTimeoutMs: number): Promise<Snapshot> {
  const [processes, delay, schedule, pools, importErrors, failures, runs, taskInstances] = await Promise.all([
    sql<{ id: string; kind: string; info: Record<string, unknown>; age: number }>`
      SELECT id, kind, info, extract(epoch FROM now() - heartbeat_at)::float8 AS age FROM tributary.process
       WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => ${heartbeatTimeoutMs / 1000})`.execute(db),
    // The newest task instances by id (an index scan), not a scan of the whole table.
    sql<{ q: (number | null)[] | null; n: number }>`
      SELECT percentile_cont(${QUANTILES}::float8[]) WITHIN GROUP (ORDER BY extract(epoch FROM start_date - queued_at)) AS q, count(*)::int AS n
        FROM (SELECT queued_at, start_date FROM tributary.task_instance ORDER BY id DESC LIMIT ${DELAY_SAMPLE}) t
       WHERE start_date > now() - make_interval(secs => ${DELAY_WINDOW_SECONDS}) AND queued_at IS NOT NULL AND start_date >= queued_at`.execute(db),
    sql<{ dag_id: string; seconds: number }>`
      SELECT d.dag_id, extract(epoch FROM r.start_date - r.data_interval_end)::float8 AS seconds
        FROM tributary.dag d
        JOIN LATERAL (SELECT start_date, data_interval_end FROM tributary.dag_run
                       WHERE dag_id = d.dag_id AND run_type = 'scheduled' AND start_date IS NOT NULL
                       ORDER BY id DESC LIMIT 1) r ON true
       WHERE d.is_active`.execute(db),
    listPools(db),
    sql<{ n: number }>`SELECT count(*)::int AS n FROM tributary.import_error`.execute(db),
    sql<{ n: string }>`SELECT count(*) AS n FROM tributary.task_try WHERE state = 'failed'`.execute(db),
    sql<{ state: string; n: number }>`
      SELECT state, count(*)::int AS n FROM tributary.dag_run WHERE state IN ('queued', 'running') GROUP BY state`.execute(db),
    sql<{ state: string; n: number }>`
      SELECT state, count(*)::int AS n FROM tributary.task_instance WHERE state IN ('queued', 'running') GROUP BY state
      UNION ALL SELECT 'scheduled', count(*)::int FROM tributary.task_instance WHERE state = 'scheduled'
      UNION ALL SELECT state, count(*)::int FROM tributary.task_instance WHERE state IN ('up_for_retry', 'up_for_reschedule') GROUP BY state`.execute(db),
  ]);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  return {
    schedulers: processes.rows
      .filter((p) => p.kind === 'scheduler')
      .map((p) => ({ id: p.id, loopMs: num(p.info.loopDurationMs), loopMaxMs: num(p.info.loopDurationMaxMs), ageSeconds: p.age })),
    workersAlive: processes.rows.filter((p) => p.kind === 'worker').length,
    queuedDelay: { quantiles: delay.rows[0]?.q ?? QUANTILES.map(() => null), count: delay.rows[0]?.n ?? 0 },
    scheduleDelay: schedule.rows.map((r) => ({ dagId: r.dag_id, seconds: r.seconds })),
    pools: pools.map((p) => ({ name: p.name, open: p.openSlots, queued: p.queuedSlots, running: p.runningSlots, scheduled: p.scheduledSlots })),
    importErrors: importErrors.rows[0]?.n ?? 0,
    failedTries: Number(failures.rows[0]?.n ?? 0),
    runs: runs.rows.map((r) => ({ state: r.state, count: r.n })),
    taskInstances: taskInstances.rows.map((r) => ({ state: r.state, count: r.n })),
  };
}

/**
 * Prometheus metrics of the whole deployment, read from the metadata database at scrape time (so any
 * webserver reports what every scheduler and worker did), with names that mirror Airflow's
 * (`scheduler.scheduler_loop_duration` → `tributary_scheduler_scheduler_loop_duration_seconds`), plus
 * this process's own Node.js metrics. One registry per app: no global state.
 */
export class WebMetrics {
  readonly registry = new Registry();
  readonly #db: Kysely<Database>;
  readonly #heartbeatTimeoutMs: number;
  readonly #cacheMs: number;
  #cached: { at: number; done: Promise<void> } | null = null;
  readonly #g: Record<string, Gauge<string>>;
  readonly #failures: Counter;
  #failuresSeen = 0;

  constructor(db: Kysely<Database>, options: { heartbeatTimeoutMs: number; cacheMs?: number }) {
    this.#db = db;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs;
    this.#cacheMs = options.cacheMs ?? 5_000;
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name: `tributary_${name}`, help, labelNames, registers });
    this.#g = {
      loop: gauge('scheduler_scheduler_loop_duration_seconds', 'Duration of the latest scheduler loop (Airflow: scheduler.scheduler_loop_duration)', ['scheduler']),
      loopMax: gauge('scheduler_scheduler_loop_duration_max_seconds', 'Longest scheduler loop since its previous heartbeat', ['scheduler']),
      heartbeat: gauge('scheduler_heartbeat_age_seconds', 'Seconds since each live scheduler last reported', ['scheduler']),
      schedulers: gauge('scheduler_alive', 'Schedulers that reported within the heartbeat timeout'),
      workers: gauge('executor_workers_alive', 'Workers that reported within the heartbeat timeout'),
      queued: gauge('task_queued_duration_seconds', `Delay from queued to started of task instances started in the last ${DELAY_WINDOW_SECONDS} s (Airflow: task.queued_duration), by quantile`, ['quantile']),
      queuedCount: gauge('task_queued_duration_seconds_count', `Task instances started in the last ${DELAY_WINDOW_SECONDS} s (of the newest ${DELAY_SAMPLE})`),
      schedule: gauge('dagrun_schedule_delay_seconds', "Delay between a scheduled run's data interval end and its start, latest run per DAG (Airflow: dagrun.schedule_delay)", ['dag_id']),
      open: gauge('pool_open_slots', 'Free slots of a pool (Airflow: pool.open_slots)', ['pool']),
      poolQueued: gauge('pool_queued_slots', 'Slots of queued task instances (Airflow: pool.queued_slots)', ['pool']),
      poolRunning: gauge('pool_running_slots', 'Slots of running task instances (Airflow: pool.running_slots)', ['pool']),
      poolScheduled: gauge('pool_scheduled_slots', 'Slots of scheduled task instances waiting for room (Airflow: pool.scheduled_slots)', ['pool']),
      importErrors: gauge('dag_processing_import_errors', 'DAG files that failed to load (Airflow: dag_processing.import_errors)'),
      runs: gauge('dagrun_active', 'Runs queued or running', ['state']),
      taskInstances: gauge('task_instances', `Task instances by state, for the states that can still change (${ACTIVE_TASK_STATES.join(', ')})`, ['state']),
    };
    this.#failures = new Counter({ name: 'tributary_ti_failures_total', help: 'Failed task tries (Airflow: ti_failures)', registers });
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_web_' });
  }

  /** Read a fresh snapshot unless one younger than the cache time exists (protects the database from scrape storms). */
  async #refresh(): Promise<void> {
    if (this.#cached && Date.now() - this.#cached.at < this.#cacheMs) return this.#cached.done;
    const done = snapshot(this.#db, this.#heartbeatTimeoutMs).then((s) => this.#apply(s));
    this.#cached = { at: Date.now(), done };
    done.catch(() => (this.#cached = null));
    return done;
  }

  #apply(s: Snapshot): void {
    for (const g of Object.values(this.#g)) g.reset();
    for (const sch of s.schedulers) {
      if (sch.loopMs !== null) this.#g.loop!.set({ scheduler: sch.id }, sch.loopMs / 1000);
      if (sch.loopMaxMs !== null) this.#g.loopMax!.set({ scheduler: sch.id }, sch.loopMaxMs / 1000);
      this.#g.heartbeat!.set({ scheduler: sch.id }, sch.ageSeconds);
    }
    this.#g.schedulers!.set(s.schedulers.length);
    this.#g.workers!.set(s.workersAlive);
    QUANTILES.forEach((q, i) => {
      const value = s.queuedDelay.quantiles[i];
      if (value !== null && value !== undefined) this.#g.queued!.set({ quantile: String(q) }, value);
    });
    this.#g.queuedCount!.set(s.queuedDelay.count);
    for (const d of s.scheduleDelay) this.#g.schedule!.set({ dag_id: d.dagId }, d.seconds);
    for (const p of s.pools) {
      this.#g.open!.set({ pool: p.name }, p.open);
      this.#g.poolQueued!.set({ pool: p.name }, p.queued);
      this.#g.poolRunning!.set({ pool: p.name }, p.running);
      this.#g.poolScheduled!.set({ pool: p.name }, p.scheduled);
    }
    this.#g.importErrors!.set(s.importErrors);
    for (const state of ['queued', 'running']) this.#g.runs!.set({ state }, s.runs.find((r) => r.state === state)?.count ?? 0);
    for (const state of ACTIVE_TASK_STATES) this.#g.taskInstances!.set({ state }, s.taskInstances.find((r) => r.state === state)?.count ?? 0);
    // A counter only goes up: add what the database gained since the last look.
    if (s.failedTries > this.#failuresSeen) this.#failures.inc(s.failedTries - this.#failuresSeen);
    this.#failuresSeen = Math.max(this.#failuresSeen, s.failedTries);
  }

  /** The metrics in Prometheus' text format. */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.#refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
