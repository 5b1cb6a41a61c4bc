import { sql, type Kysely } from 'kysely';
import { durationToMs } from '../dag/duration.js';
import { SensorFailedError, type PokeResult } from '../dag/sensor-options.js';
import type { SerializedDag, TaskContext } from '../dag/types.js';
import type { Database } from '../db/schema.js';
import { NotFoundError, SkipTaskError } from '../errors.js';
import type { ExternalTaskSensorArgs } from './sensor-args.js';

/** A watched DAG run, or its tasks, reached one of the sensor's `failedStates`. */
export class ExternalTaskFailedError extends SensorFailedError {}

type Context = Pick<TaskContext, 'dagId' | 'taskId' | 'logicalDate' | 'log'>;

/** Task ids the sensor watches, or null for the whole run. */
function watchedTasks(args: ExternalTaskSensorArgs, serialized: SerializedDag | null): string[] | null {
  if (args.externalTaskId) return [args.externalTaskId];
  if (args.externalTaskIds) return args.externalTaskIds;
  if (args.externalTaskGroupId) {
    const prefix = `${args.externalTaskGroupId}.`;
    return serialized ? serialized.tasks.filter((t) => t.taskId.startsWith(prefix)).map((t) => t.taskId) : [];
  }
  return null;
}

/**
 * `externalTaskSensor`: done when the other DAG's run with the matching logical date (this run's
 * minus `executionDelta`) — or the named tasks in it, every map index — reached an allowed state
 * (Airflow's `ExternalTaskSensor`). A failed state fails the poke and a skipped state skips the
 * sensor at once. Its result names the run it watched.
 */
export async function pokeExternalTask(
  args: ExternalTaskSensorArgs,
  context: Context,
  db: Kysely<Database>,
): Promise<PokeResult<{ dagId: string; runId: string; logicalDate: string }>> {
  const logicalDate = new Date(context.logicalDate.getTime() - ((durationToMs(args.executionDelta ?? 0) as number) || 0));
  const allowed = args.allowedStates ?? ['success'];
  const failed = args.failedStates ?? [];
  const skipped = args.skippedStates ?? [];
  const dag = await sql<{ serialized: SerializedDag | null }>`
    SELECT v.serialized FROM tributary.dag d LEFT JOIN tributary.dag_version v ON v.id = d.latest_version_id
     WHERE d.dag_id = ${args.externalDagId}`.execute(db);
  const serialized = dag.rows[0]?.serialized ?? null;
  const tasks = watchedTasks(args, serialized);
  const where = `DAG '${args.externalDagId}'${tasks ? ` task(s) ${tasks.join(', ') || `of group '${args.externalTaskGroupId}'`}` : ''}`;
  if (args.checkExistence) {
    if (dag.rows.length === 0) throw new NotFoundError(`externalTaskSensor: DAG '${args.externalDagId}'`, { dagId: context.dagId, taskId: context.taskId });
    const missing = (tasks ?? []).filter((id) => !serialized?.tasks.some((t) => t.taskId === id));
    if (missing.length > 0 || (tasks && tasks.length === 0)) {
      throw new NotFoundError(`externalTaskSensor: ${missing.length > 0 ? `task(s) ${missing.join(', ')}` : `task group '${args.externalTaskGroupId}'`} in DAG '${args.externalDagId}'`, {
        dagId: context.dagId,
        taskId: context.taskId,
      });
    }
  }
  // The newest run with that logical date (test runs may share one).
  const run = await sql<{ id: number; run_id: string; state: string }>`
    SELECT id, run_id, state FROM tributary.dag_run WHERE dag_id = ${args.externalDagId} AND logical_date = ${logicalDate}
     ORDER BY id DESC LIMIT 1`.execute(db);
  const found = run.rows[0];
  if (!found) {
    context.log.info(`No run of DAG '${args.externalDagId}' with logical date ${logicalDate.toISOString()} yet`);
    return { done: false };
  }
  let states: string[];
  if (tasks === null) {
    states = [found.state];
  } else {
    const rows = await sql<{ task_id: string; state: string | null }>`
      SELECT task_id, state FROM tributary.task_instance
       WHERE run_pk = ${found.id} AND task_id = ANY(${tasks}) AND state IS DISTINCT FROM 'removed'`.execute(db);
    states = rows.rows.map((r) => r.state ?? 'none');
    // A watched task without any instance in the run (not in its version) never counts as done.
    const present = new Set(rows.rows.map((r) => r.task_id));
    if (tasks.length === 0 || tasks.some((id) => !present.has(id))) states.push('none');
  }
  const summary = `${where} in run '${found.run_id}' (${logicalDate.toISOString()}): ${[...new Set(states)].join(', ')}`;
  if (states.some((s) => failed.includes(s))) {
    throw new ExternalTaskFailedError('EXTERNAL_TASK_FAILED', `DAG '${context.dagId}': sensor '${context.taskId}': ${summary} — a failed state`, {
      location: { dagId: context.dagId, taskId: context.taskId },
    });
  }
  if (states.some((s) => skipped.includes(s))) throw new SkipTaskError(`${summary} — a skipped state`);
  const done = states.every((s) => allowed.includes(s));
  context.log.info(done ? `${summary}: done` : `${summary}: waiting for ${allowed.join(' or ')}`);
  return done ? { done: true, value: { dagId: args.externalDagId, runId: found.run_id, logicalDate: logicalDate.toISOString() } } : { done: false };
}
