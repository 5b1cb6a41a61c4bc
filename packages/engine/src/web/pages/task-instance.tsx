/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { SerializedTask } from '../../dag/types.js';
import { getRun } from '../../service/runs.js';
import { getTaskInstance, getTaskXcom, listTaskTries, type TaskInstanceDetail, type TaskTrySummary, type XcomEntry } from '../../service/run-queries.js';
import { listMappedInstances, type MappedInstanceSummary } from '../../service/run-tasks.js';
import { maskSensitive } from '../../service/secrets.js';
import { taskInstanceArguments } from '../../service/task-arguments.js';
import type { WebEnv } from '../types.js';
import { ConfirmLink, Duration, Facts, JsonBlock, PageHeading, StateBadge, StateDot, Time } from './components.js';
import { canOperate } from './dag-header.js';
import { elapsedMs, formatDuration, prettyJson } from './format.js';
import { Layout } from './layout.js';
import { dagPath, intParam, runActionPath, runPath, taskPath, withQuery } from './paths.js';
import { logChunk } from './task-log.js';

/** Instance states after which it will not run again unless cleared. */
const FINISHED = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
/** Longest XCom value shown inline. */
const XCOM_SHOWN_CHARS = 20_000;

function TaskActions({ ti }: { ti: TaskInstanceDetail }) {
  const sel = { tasks: ti.taskId };
  return (
    <>
      <ConfirmLink href={withQuery(runActionPath(ti.dagId, ti.runId, 'clear'), { ...sel, downstream: true })} variant="primary">
        Clear…
      </ConfirmLink>
      <ConfirmLink href={withQuery(runActionPath(ti.dagId, ti.runId, 'mark'), { ...sel, state: 'success' })}>Mark success…</ConfirmLink>
      <ConfirmLink href={withQuery(runActionPath(ti.dagId, ti.runId, 'mark'), { ...sel, state: 'failed' })}>Mark failed…</ConfirmLink>
    </>
  );
}

function TriesTable({ tries }: { tries: TaskTrySummary[] }) {
  if (tries.length === 0) return <p class="muted">Not run yet.</p>;
  return (
    <table class="table">
      <thead>
        <tr>
          <th class="num">Try</th>
          <th>State</th>
          <th>Started</th>
          <th class="num">Duration</th>
          <th>Worker</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {tries.map((t) => (
          <tr>
            <td class="num">{t.tryNumber}</td>
            <td>
              <StateBadge state={t.state} />
            </td>
            <td>
              <Time date={t.startDate} />
            </td>
            <td class="num">
              <Duration ms={t.durationMs ?? elapsedMs(t.startDate, t.endDate)} />
            </td>
            <td>{t.hostname ?? '–'}</td>
            <td class="error-cell">
              {t.error ? (
                <details>
                  <summary>
                    <strong>{t.error.name}</strong>: {t.error.message}
                  </summary>
                  {t.error.stack ? <pre class="log-text">{t.error.stack}</pre> : null}
                </details>
              ) : (
                <span class="muted">–</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function XcomList({ entries }: { entries: XcomEntry[] }) {
  if (entries.length === 0) return <p class="muted">No result.</p>;
  return (
    <>
      {entries.map((e) => {
        if (e.storedAt) {
          // Offloaded results can be hundreds of megabytes: say where it is, not what it is.
          return (
            <div class="xcom">
              <div class="xcom-key">
                <code>{e.key}</code> <span class="muted small">{e.sizeBytes} bytes</span>
              </div>
              <p class="xcom-stored">
                Stored in the object store: bucket <code>{e.storedAt.bucket}</code>, key <code>{e.storedAt.key}</code> (read it through the REST API).
              </p>
            </div>
          );
        }
        const text = prettyJson(e.value);
        return (
          <div class="xcom">
            <div class="xcom-key">
              <code>{e.key}</code> <span class="muted small">{e.sizeBytes} bytes</span>
            </div>
            <pre class="json">{text.length > XCOM_SHOWN_CHARS ? `${text.slice(0, XCOM_SHOWN_CHARS)}\n… (${text.length - XCOM_SHOWN_CHARS} more characters; see the REST API)` : text}</pre>
          </div>
        );
      })}
    </>
  );
}

function MappedList({ dagId, runId, taskId, instances }: { dagId: string; runId: string; taskId: string; instances: MappedInstanceSummary[] }) {
  return (
    <section class="card">
      <h2>Mapped instances ({instances.length})</h2>
      <div class="mapped-list">
        {instances.map((m) => (
          <a class="mapped-chip" href={taskPath(dagId, runId, taskId, m.mapIndex)} title={`[${m.mapIndex}] ${m.state ?? 'no status'}`}>
            <StateDot state={m.state} /> {m.mapIndex}
          </a>
        ))}
      </div>
    </section>
  );
}

function TaskDefinition({ task }: { task: SerializedTask | undefined }) {
  if (!task) return <p class="muted">Not in this run's DAG version.</p>;
  return (
    <Facts
      items={[
        ['Kind', task.kind === 'operator' ? `operator ${task.operator}` : 'function'],
        ['Trigger rule', <code>{task.triggerRule}</code>],
        ['Retries', `${task.retries}${task.retries ? ` (every ${formatDuration(task.retryDelayMs)}${task.retryExponentialBackoff ? ', backing off' : ''})` : ''}`],
        ['Timeout', task.executionTimeoutMs === null ? 'none' : formatDuration(task.executionTimeoutMs)],
        ['Upstream', task.upstream.length ? task.upstream.join(', ') : 'none'],
        ['Downstream', task.downstream.length ? task.downstream.join(', ') : 'none'],
        ...(task.docs ? ([['Docs', <div class="docs">{task.docs}</div>]] as [string, unknown][]) : []),
      ] as never}
    />
  );
}

/**
 * The live part of a task instance page (state, times, tries): refreshed every 2 s until the
 * instance finishes.
 */
function TaskLive({ c, ti, tries }: { c: Context<WebEnv>; ti: TaskInstanceDetail; tries: TaskTrySummary[] }) {
  const active = ti.state === null || !FINISHED.has(ti.state);
  const url = new URL(c.req.url);
  const poll = active ? { 'hx-get': url.pathname + url.search, 'hx-trigger': 'every 2s', 'hx-select': '#ti-live', 'hx-swap': 'outerHTML' } : {};
  return (
    <div id="ti-live" data-state={ti.state ?? 'none'} {...poll}>
      <div class="columns">
        <section class="card">
          <h2>Instance</h2>
          <Facts
            items={[
              ['State', <StateBadge state={ti.state} />],
              ['Try', `${ti.tryNumber} of ${ti.maxTries}`],
              ['Queued', <Time date={ti.queuedAt} />],
              ['Started', <Time date={ti.startDate} />],
              ['Ended', <Time date={ti.endDate} />],
              ['Duration', <Duration ms={elapsedMs(ti.startDate, ti.endDate)} />],
              ['Pool', <a href="/pools">{`${ti.pool} (${ti.poolSlots} slot${ti.poolSlots === 1 ? '' : 's'})`}</a>],
              ['Queue · priority', `${ti.queue} · ${ti.priorityWeight}`],
              ['Executor', ti.executor ?? '–'],
              ['Worker', ti.hostname ? `${ti.hostname}${ti.pid ? ` (pid ${ti.pid})` : ''}` : '–'],
              ...(ti.externalId ? ([['Pod', ti.externalId]] as [string, string][]) : []),
              ...(ti.nextRetryAt ? ([['Next retry', <Time date={ti.nextRetryAt} />]] as [string, unknown][]) : []),
            ] as never}
          />
        </section>
        <section class="card">
          <h2>Tries</h2>
          <TriesTable tries={tries} />
        </section>
      </div>
    </div>
  );
}

/** `GET /dags/:dagId/runs/:runId/tasks/:taskId?map=&try=`: a task instance with arguments, result, tries and its log. */
export async function taskInstancePage(c: Context<WebEnv>): Promise<Response> {
  const engine = c.get('engine');
  const dagId = c.req.param('dagId')!;
  const runId = c.req.param('runId')!;
  const taskId = c.req.param('taskId')!;
  const mapParam = c.req.query('map');
  const run = await getRun(engine.db, dagId, runId);
  const structure = await engine.context.versions.get(run.dag_version_id);
  const task = structure.tasks.get(taskId);
  const mapped = mapParam === undefined ? await listMappedInstances(engine.db, run.id, taskId) : [];
  const crumbs: [string, string | null][] = [['DAGs', '/'], [dagId, dagPath(dagId)], [runId, runPath(dagId, runId)], [taskId, mapParam === undefined ? null : taskPath(dagId, runId, taskId)]];
  if (mapped.length > 0) {
    // A mapped task: choose one of its instances.
    return c.html(
      <Layout c={c} title={`${dagId} · ${taskId}`} section="dags">
        <PageHeading crumbs={crumbs} title={<>{taskId} <span class="mapped">[{mapped.length}]</span></>} sub={<p class="meta">mapped task in run {runId}</p>} actions={canOperate(c) ? <TaskActions ti={{ dagId, runId, taskId } as TaskInstanceDetail} /> : null} />
        <MappedList dagId={dagId} runId={runId} taskId={taskId} instances={mapped} />
        <section class="card">
          <h2>Task</h2>
          <TaskDefinition task={task} />
        </section>
      </Layout>,
    );
  }
  const mapIndex = intParam(mapParam, -1, -1);
  const ti = await getTaskInstance(engine.db, { dagId, runId, taskId, mapIndex });
  const [tries, xcom, args] = await Promise.all([
    listTaskTries(engine.db, { dagId, runId, taskId, mapIndex }),
    getTaskXcom(engine.db, { dagId, runId, taskId, mapIndex }),
    taskInstanceArguments(engine.context, { runPk: run.id, dagId, taskId, mapIndex, storedArgs: ti.renderedArgs }, structure),
  ]);
  const latestTry = Math.max(1, ti.tryNumber);
  const shownTry = intParam(c.req.query('try'), latestTry, 1, Math.max(latestTry, tries.length));
  const follow = c.req.query('try') === undefined;
  const label = mapIndex >= 0 ? `${taskId} [${mapIndex}]` : taskId;
  if (mapIndex >= 0) crumbs.push([`[${mapIndex}]`, null]);
  return c.html(
    <Layout c={c} title={`${dagId} · ${label}`} section="dags">
      <PageHeading
        crumbs={crumbs}
        title={
          <>
            {label} <StateBadge state={ti.state} />
          </>
        }
        sub={
          <p class="meta">
            <span>
              run <a href={runPath(dagId, runId)}>{runId}</a>
            </span>
            {ti.operator && ti.operator !== 'function' ? <span>operator <code>{ti.operator}</code></span> : null}
          </p>
        }
        actions={canOperate(c) ? <TaskActions ti={ti} /> : null}
      />
      <TaskLive c={c} ti={ti} tries={tries} />
      <section class="card log-card">
        <div class="card-head">
          <h2>Log</h2>
          <nav class="segmented small" aria-label="Tries">
            {Array.from({ length: Math.max(latestTry, tries.length) }, (_, i) => i + 1).map((n) => (
              <a class={n === shownTry ? 'active' : undefined} href={withQuery(taskPath(dagId, runId, taskId, mapIndex), { try: n === latestTry ? undefined : n })}>
                try {n}
              </a>
            ))}
          </nav>
        </div>
        <div class="log" id="log" data-try={shownTry}>
          {await logChunk(c, ti, shownTry, 0, follow)}
        </div>
      </section>
      <div class="columns">
        <section class="card">
          <h2>Arguments</h2>
          <JsonBlock value={maskSensitive(args.args)} empty="No arguments." />
          {args.problem ? <p class="notice warn">{args.problem}</p> : null}
          <p class="hint">{args.source === 'stored' ? 'As the worker rendered them for this try' : 'What ctx.args receives: the task’s args, and a mapped instance’s element of each expand input'}; values of secret-looking keys read as ***.</p>
        </section>
        <section class="card">
          <h2>Result (XCom)</h2>
          <XcomList entries={xcom} />
        </section>
      </div>
      <section class="card">
        <h2>Task</h2>
        <TaskDefinition task={task} />
      </section>
    </Layout>,
  );
}
