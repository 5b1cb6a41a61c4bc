import type { BenchResult } from '../report.js';

/** Airflow's published figures, shown beside the measured ones for context — quoted, never measured here. */
export const AIRFLOW_QUOTED: Record<string, BenchResult[]> = {
  chain: [
    { scenario: 'chain', system: 'airflow', metric: 'hop_p50', value: 2000, unit: 'ms', note: 'quoted: 2-4 s per hop, vendor-measured, Airflow 2.7' },
  ],
  fanout: [
    { scenario: 'fanout', system: 'airflow', metric: 'throughput', value: 1000 / 12, unit: 'tasks/s', note: 'quoted: ~1,000 tasks in ~12 s, Airflow 2.0 scheduler benchmark' },
  ],
};
