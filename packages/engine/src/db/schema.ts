import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { ErrorInfo } from '../errors.js';
import type { ParamsSchema, RunType, SerializedDag } from '../dag/types.js';
import type { BackfillReprocess } from '../schedule/backfill.js';

/** Name of the engine's schema in Postgres. */
export const ENGINE_SCHEMA = 'tributary';

/** Task-instance states, as in Airflow (`null` is Airflow's "no status"). */
export const TASK_STATES = [
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'up_for_reschedule',
  'upstream_failed',
  'skipped',
  'removed',
  'deferred',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task instance will not run again unless cleared. */
export const FINISHED_TASK_STATES: readonly TaskState[] = ['success', 'failed', 'upstream_failed', 'skipped', 'removed'];

/** Run states. */
export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export interface DagTable {
  dag_id: string;
  file: string | null;
  is_paused: Generated<boolean>;
  is_active: Generated<boolean>;
  description: string | null;
  tags: Generated<string[]>;
  schedule: string | null;
  timezone: Generated<string>;
  max_active_runs: number;
  max_active_tasks: number;
  latest_version_id: number | null;
  timetable_key: string | null;
  needs_next_run: Generated<boolean>;
  /** Asset URIs the DAG's schedule waits for (empty unless scheduled on assets). */
  asset_triggers: Generated<string[]>;
  next_run_after: Timestamp | null;
  next_logical_date: Timestamp | null;
  next_interval_start: Timestamp | null;
  next_interval_end: Timestamp | null;
  last_parsed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DagVersionTable {
  id: Generated<number>;
  dag_id: string;
  version_number: number;
  hash: string;
  serialized: ColumnType<SerializedDag, string, string>;
  source_code: string | null;
  created_at: CreatedAt;
}

export interface DagFileTable {
  path: string;
  content_hash: string;
  parsed_at: Timestamp;
  parse_duration_ms: number;
  dag_ids: string[];
}

export interface ImportErrorTable {
  file: string;
  message: string;
  stack: string | null;
  occurred_at: Timestamp;
}

export interface DagRunTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  dag_version_id: number;
  run_type: RunType;
  state: RunState;
  logical_date: Timestamp;
  data_interval_start: Timestamp;
  data_interval_end: Timestamp;
  conf: ColumnType<Record<string, unknown>, string, string>;
  /** Worker queue every task of this run is sent to instead of its own (used by `dags test`). */
  queue_override: string | null;
  triggered_by: string | null;
  note: string | null;
  created_at: CreatedAt;
  queued_at: Timestamp | null;
  start_date: Timestamp | null;
  end_date: Timestamp | null;
  /** The backfill that created (or reprocessed) this run. */
  backfill_id: Generated<number | null>;
  /** When the DAG's deadline alert fires if the run has not finished. */
  deadline_at: Generated<Date | null>;
  deadline_alerted_at: Generated<Date | null>;
}

/** Backfill states. */
export type BackfillState = 'running' | 'completed' | 'cancelled';
/** What a backfill did with one interval. */
export type BackfillRunOutcome = 'pending' | 'created' | 'cleared' | 'exists' | 'in_flight' | 'cancelled';

export interface BackfillTable {
  id: Generated<number>;
  dag_id: string;
  from_date: Timestamp;
  to_date: Timestamp;
  reprocess: BackfillReprocess;
  max_active_runs: number;
  run_backwards: Generated<boolean>;
  conf: ColumnType<Record<string, unknown>, string, string>;
  state: BackfillState;
  created_by: string | null;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

export interface BackfillRunTable {
  backfill_id: number;
  sort_ordinal: number;
  logical_date: Timestamp;
  data_interval_start: Timestamp;
  data_interval_end: Timestamp;
  outcome: BackfillRunOutcome;
  run_pk: number | null;
}

export interface AssetTable {
  id: Generated<number>;
  uri: string;
  created_at: CreatedAt;
}

export interface AssetEventTable {
  id: Generated<number>;
  asset_id: number;
  source_dag_id: string | null;
  source_run_id: string | null;
  source_task_id: string | null;
  source_map_index: number | null;
  extra: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: CreatedAt;
}

export interface AssetDagQueueTable {
  dag_id: string;
  asset_id: number;
  first_event_id: number;
  last_event_id: number;
}

export interface DagRunAssetEventTable {
  run_pk: number;
  event_id: number;
}

export interface TaskInstanceTable {
  id: Generated<number>;
  run_pk: number;
  dag_id: string;
  task_id: string;
  map_index: Generated<number>;
  state: TaskState | null;
  try_number: Generated<number>;
  max_tries: number;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  operator: string | null;
  executor: string | null;
  hostname: string | null;
  worker_id: string | null;
  pid: number | null;
  queued_at: Timestamp | null;
  start_date: Timestamp | null;
  end_date: Timestamp | null;
  heartbeat_at: Timestamp | null;
  /** When an `up_for_retry` instance retries, or an `up_for_reschedule` sensor pokes again. */
  next_retry_at: Timestamp | null;
  /** Its next claim continues the current try (a sensor between pokes) instead of starting a new one. */
  resuming: Generated<boolean>;
  rendered_args: ColumnType<unknown, string | null, string | null> | null;
  external_id: string | null;
  updated_at: UpdatedAt;
}

export interface TaskTryTable {
  ti_id: number;
  try_number: number;
  state: TaskState;
  hostname: string | null;
  worker_id: string | null;
  pid: number | null;
  start_date: Timestamp;
  end_date: Timestamp | null;
  duration_ms: number | null;
  error: ColumnType<ErrorInfo | null, string | null, string | null>;
}

/** A sensor poke that ended in `up_for_reschedule` (Airflow's `task_reschedule`). */
export interface TaskRescheduleTable {
  id: Generated<number>;
  ti_id: number;
  try_number: number;
  start_date: Timestamp;
  end_date: Timestamp;
  reschedule_date: Timestamp;
}

export interface XcomTable {
  run_pk: number;
  task_id: string;
  map_index: Generated<number>;
  key: string;
  /** The result, or (when `offloaded`) a reference `{ bucket, key, sizeBytes }` to it in the object store. */
  value: ColumnType<unknown, string, string>;
  /** Size of the result's JSON in bytes (of the result, also when offloaded). */
  size_bytes: number;
  created_at: CreatedAt;
  offloaded: Generated<boolean>;
}

export interface TaskLogTable {
  id: Generated<number>;
  ti_id: number;
  try_number: number;
  logged_at: Timestamp;
  level: string;
  message: string;
}

export interface PoolTable {
  name: string;
  /** Slots in all; -1 for unlimited. */
  slots: number;
  description: string | null;
  created_at: CreatedAt;
}

export interface ProcessTable {
  id: string;
  kind: string;
  hostname: string;
  pid: number;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  stopped_at: Timestamp | null;
  info: ColumnType<Record<string, unknown>, string, string>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  actor: string;
  origin: string;
  action: string;
  dag_id: string | null;
  run_id: string | null;
  task_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  /** The object acted on when it is not a DAG, run or task: `pool:etl`, `user:alice`, `connection:s3`. */
  object: string | null;
}

/** A role of a web user: viewers read, operators act on runs, admins manage users, pools and connections. */
export type UserRole = 'viewer' | 'operator' | 'admin';

export interface WebUserTable {
  id: Generated<number>;
  username: string;
  /** `scrypt$N$r$p$salt$hash` (see `service/passwords.ts`). */
  password_hash: string;
  role: UserRole;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
  last_login_at: Timestamp | null;
}

export interface WebSessionTable {
  /** SHA-256 of the session cookie's secret. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokenTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 of the token. */
  token_hash: string;
  /** The token's first characters, to recognise it in a list. */
  prefix: string;
  created_at: CreatedAt;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface VariableTable {
  key: string;
  value: string;
  description: string | null;
  updated_at: UpdatedAt;
}

export interface ConnectionTable {
  conn_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  extra: ColumnType<Record<string, unknown>, string | undefined, string>;
  updated_at: UpdatedAt;
}

/** The engine's tables, as kysely sees them. */
export interface Database {
  'tributary.dag': DagTable;
  'tributary.dag_version': DagVersionTable;
  'tributary.dag_file': DagFileTable;
  'tributary.import_error': ImportErrorTable;
  'tributary.dag_run': DagRunTable;
  'tributary.task_instance': TaskInstanceTable;
  'tributary.task_try': TaskTryTable;
  'tributary.task_reschedule': TaskRescheduleTable;
  'tributary.xcom': XcomTable;
  'tributary.task_log': TaskLogTable;
  'tributary.pool': PoolTable;
  'tributary.process': ProcessTable;
  'tributary.audit_log': AuditLogTable;
  'tributary.web_user': WebUserTable;
  'tributary.web_session': WebSessionTable;
  'tributary.api_token': ApiTokenTable;
  'tributary.variable': VariableTable;
  'tributary.connection': ConnectionTable;
  'tributary.backfill': BackfillTable;
  'tributary.backfill_run': BackfillRunTable;
  'tributary.asset': AssetTable;
  'tributary.asset_event': AssetEventTable;
  'tributary.asset_dag_queue': AssetDagQueueTable;
  'tributary.dag_run_asset_event': DagRunAssetEventTable;
}

export type DagRow = Selectable<DagTable>;
export type DagRunRow = Selectable<DagRunTable>;
export type BackfillRow = Selectable<BackfillTable>;
export type TaskInstanceRow = Selectable<TaskInstanceTable>;
export type TaskTryRow = Selectable<TaskTryTable>;
export type NewTaskInstance = Insertable<TaskInstanceTable>;
export type { ParamsSchema };
