import { sql, type Kysely } from 'kysely';
import { mappedArgsAt, resolveExpandValues } from '../dag/mapping.js';
import type { AssetEventInfo, SerializedTask } from '../dag/types.js';
import { Batcher, perOwner } from '../db/batcher.js';
import type { Database } from '../db/schema.js';
import type { DagStructure, EngineContext } from '../scheduler/context.js';
import { loadTaskResults } from '../scheduler/mapping.js';
import type { ClaimedTaskInstance } from '../scheduler/task-transitions.js';
import { getConnection } from '../service/connections.js';
import { maskSensitive } from '../service/secrets.js';
import { getVariable } from '../service/variables.js';
import { ArgumentRenderer, hasTemplates, type TemplateLookups } from './templates.js';

/** The arguments of one try, and what to store as its `rendered_args`. */
export interface TryArguments {
  /** What the task receives (`ctx.args`, or an operator's arguments). */
  args: Record<string, unknown>;
  /** JSON of the arguments for `rendered_args`, secrets masked; null when the task has no arguments. */
  renderedJson: string | null;
}

/** What a try's context, templates and callbacks know about it, from its claim. */
export function tryFacts(claimed: ClaimedTaskInstance) {
  return {
    dagId: claimed.dagId,
    runId: claimed.runId,
    runType: claimed.runType,
    taskId: claimed.taskId,
    mapIndex: claimed.mapIndex,
    tryNumber: claimed.tryNumber,
    maxTries: claimed.maxTries,
    logicalDate: claimed.logicalDate,
    dataInterval: { start: claimed.dataIntervalStart, end: claimed.dataIntervalEnd },
    params: claimed.conf,
  };
}

/** Whether a task's own arguments or literal `expand` lists hold templates (scanned once per DAG version). */
const templatedTasks = new WeakMap<SerializedTask, boolean>();

function isTemplated(task: SerializedTask): boolean {
  let templated = templatedTasks.get(task);
  if (templated === undefined) {
    templated = hasTemplates(task.args) || (task.expand ?? []).some((source) => 'values' in source && hasTemplates(source.values));
    templatedTasks.set(task, templated);
  }
  return templated;
}

async function flushRenderedArgs(db: Kysely<Database>, inputs: { id: number; tryNumber: number; json: string }[]): Promise<void[]> {
  await sql`
    UPDATE tributary.task_instance t SET rendered_args = v.args::jsonb
      FROM unnest(${inputs.map((i) => i.id)}::bigint[], ${inputs.map((i) => i.tryNumber)}::int[], ${inputs.map((i) => i.json)}::text[])
           AS v(id, try_number, args)
     WHERE t.id = v.id AND t.state = 'running' AND t.try_number = v.try_number`.execute(db);
  return inputs.map(() => undefined);
}

/** Rendered-argument writes of one database, batched. */
const renderedArgsBatcher = perOwner(
  (db: Kysely<Database>) => new Batcher<{ id: number; tryNumber: number; json: string }, void>((inputs) => flushRenderedArgs(db, inputs), { key: (i) => i.id }),
);

function lookupsFor(ctx: EngineContext, claimed: ClaimedTaskInstance, structure: DagStructure): TemplateLookups {
  return {
    variable: async (key) => (await getVariable(ctx.db, key, { reveal: true })).value,
    connection: (connId) => getConnection(ctx.db, connId, { reveal: true }),
    xcom: async (taskId) => (structure.tasks.has(taskId) ? (await loadTaskResults(ctx.db, ctx.xcom, claimed.runPk, [taskId], structure))[taskId] : undefined),
  };
}

/**
 * A try's arguments: a function task's `args` or an operator's, plus for an instance of a mapped task
 * its element of each `expand` input; templates in them rendered (those in the task's own arguments
 * and literal `expand` lists — never values that came from upstream results). A templated try's
 * rendered arguments are stored at once (so a running or crashed try shows them); the others' go
 * with the try's outcome, at no extra cost. `render: false` (a try whose own process renders,
 * such as a pod) skips templates.
 */
export async function tryArguments(
  ctx: EngineContext,
  claimed: ClaimedTaskInstance,
  task: SerializedTask,
  structure: DagStructure,
  upstream: Record<string, unknown>,
  triggeringAssetEvents: Readonly<Record<string, readonly AssetEventInfo[]>>,
  render = true,
): Promise<TryArguments> {
  const where = { dagId: claimed.dagId, taskId: claimed.taskId };
  const fixed = (task.args ?? {}) as Record<string, unknown>;
  const element = task.expand ? mappedArgsAt(where, resolveExpandValues(where, task.expand, upstream), claimed.mapIndex) : {};
  const hasArguments = task.args !== null || task.expand !== null;
  if (!render || !isTemplated(task)) {
    const args = task.expand ? { ...fixed, ...element } : fixed;
    return { args, renderedJson: hasArguments ? JSON.stringify(maskSensitive(args)) : null };
  }
  const renderer = new ArgumentRenderer({ ...tryFacts(claimed), upstream, triggeringAssetEvents }, lookupsFor(ctx, claimed, structure));
  // An operator's arguments need not be an object (then nothing is mapped over them).
  const args = (await renderer.render(task.args ?? {}, 'args')) as Record<string, unknown>;
  const literal = new Set((task.expand ?? []).filter((s) => 'values' in s).map((s) => s.name));
  for (const [name, value] of Object.entries(element)) {
    args[name] = literal.has(name) ? await renderer.render(value, `expand.${name}[${claimed.mapIndex}]`) : value;
  }
  const renderedJson = JSON.stringify(renderer.masked(args));
  await renderedArgsBatcher(ctx.db).run({ id: claimed.id, tryNumber: claimed.tryNumber, json: renderedJson });
  return { args, renderedJson };
}
