/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { getRunSummary, type RunSummary } from '../../service/run-queries.js';
import { summarizeRunTasks, type RunTaskSummary } from '../../service/run-tasks.js';
import type { WebEnv } from '../types.js';
import { ConfirmLink, cssState, Duration, Facts, JsonBlock, PageHeading, StateBadge, Time } from './components.js';
import { canOperate } from './dag-header.js';
import { describeCounts, elapsedMs, formatDuration, formatTime, summaryState } from './format.js';
import { Layout } from './layout.js';
import { dagPath, runActionPath, runPath, taskPath, withQuery } from './paths.js';

/** Whether a run can still change on its own (and its page should keep refreshing). */
export const isActiveRun = (state: string): boolean => state === 'queued' || state === 'running';

function taskState(t: RunTaskSummary) {
  return summaryState(Object.keys(t.states) as never[]);
}

/** The run's actions: clear (all, or failed only), mark success/failed, cancel while active. */
function RunActions({ run, tasks }: { run: RunSummary; tasks: RunTaskSummary[] }) {
  const all = tasks.map((t) => t.taskId).join(',');
  return (
    <>
      <ConfirmLink href={withQuery(runActionPath(run.dagId, run.runId, 'clear'), { onlyFailed: true })}>Clear failed…</ConfirmLink>
      <ConfirmLink href={runActionPath(run.dagId, run.runId, 'clear')}>Clear all…</ConfirmLink>
      {run.state !== 'queued' && all ? (
        <>
          <ConfirmLink href={withQuery(runActionPath(run.dagId, run.runId, 'mark'), { state: 'success', tasks: all })}>Mark success…</ConfirmLink>
          <ConfirmLink href={withQuery(runActionPath(run.dagId, run.runId, 'mark'), { state: 'failed', tasks: all })}>Mark failed…</ConfirmLink>
        </>
      ) : null}
      {isActiveRun(run.state) ? (
        <ConfirmLink href={runActionPath(run.dagId, run.runId, 'cancel')} variant="danger">
          Cancel run…
        </ConfirmLink>
      ) : null}
    </>
  );
}

function RunHeading({ c, run, tasks, tab }: { c: Context<WebEnv>; run: RunSummary; tasks: RunTaskSummary[]; tab: 'details' | 'gantt' }) {
  return (
    <>
      <PageHeading
        crumbs={[['DAGs', '/'], [run.dagId, dagPath(run.dagId)], ['runs', dagPath(run.dagId, 'runs')], [run.runId, null]]}
        title={
          <>
            {run.runId} <StateBadge state={run.state} />
          </>
        }
        sub={
          <p class="meta">
            <span>{run.runType}</span>
            <span>
              logical date <Time date={run.logicalDate} />
            </span>
            {run.startDate ? <span>duration {formatDuration(elapsedMs(run.startDate, run.endDate))}</span> : null}
          </p>
        }
        actions={canOperate(c) ? <RunActions run={run} tasks={tasks} /> : null}
      />
      <nav class="tabs" aria-label="Run views">
        <a href={runPath(run.dagId, run.runId)} class={tab === 'details' ? 'active' : undefined}>Details</a>
        <a href={runPath(run.dagId, run.runId, 'gantt')} class={tab === 'gantt' ? 'active' : undefined}>Gantt</a>
        <a href={withQuery(dagPath(run.dagId, 'graph'), { run: run.runId })}>Graph</a>
        <a href={dagPath(run.dagId)}>Grid</a>
      </nav>
    </>
  );
}

/** The live part of a run page: refreshed every 2 s while the run is unfinished. */
function RunLive({ c, run, tasks }: { c: Context<WebEnv>; run: RunSummary; tasks: RunTaskSummary[] }) {
  const active = isActiveRun(run.state);
  const self = new URL(c.req.url).pathname;
  const poll = active ? { 'hx-get': self, 'hx-trigger': 'every 2s', 'hx-select': '#run-live', 'hx-swap': 'outerHTML' } : {};
  return (
    <div id="run-live" data-state={run.state} {...poll}>
      <div class="columns">
        <section class="card">
          <h2>Run</h2>
          <Facts
            items={[
              ['State', <StateBadge state={run.state} />],
              ['Type', run.runType],
              ['Logical date', <Time date={run.logicalDate} />],
              ['Data interval', <>{formatTime(run.dataIntervalStart)} → {formatTime(run.dataIntervalEnd)}</>],
              ['Queued', <Time date={run.queuedAt} />],
              ['Started', <Time date={run.startDate} />],
              ['Ended', <Time date={run.endDate} />],
              ['Duration', <Duration ms={elapsedMs(run.startDate, run.endDate)} />],
              ['Triggered by', run.triggeredBy ?? '–'],
              ['DAG version', <a href={withQuery(dagPath(run.dagId, 'code'), { version: run.versionNumber })}>{String(run.versionNumber)}</a>],
              ...(run.note ? ([['Note', run.note]] as [string, Child][]) : []),
            ]}
          />
        </section>
        <section class="card">
          <h2>Params</h2>
          <JsonBlock value={run.conf} empty="No params." />
        </section>
      </div>
      <section class="card flush">
        <h2 class="card-title">Task instances</h2>
        <table class="table">
          <thead>
            <tr>
              <th>Task</th>
              <th>State</th>
              <th class="num">Tries</th>
              <th>Started</th>
              <th>Ended</th>
              <th class="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr>
                <td>
                  <a href={taskPath(run.dagId, run.runId, t.taskId)}>{t.taskId}</a>
                  {t.mapped ? <span class="mapped" title={describeCounts(t.states)}>[{t.count}]</span> : null}
                </td>
                <td>
                  <StateBadge state={taskState(t)} />
                  {t.mapped ? <span class="muted small"> {describeCounts(t.states)}</span> : null}
                </td>
                <td class="num">{t.tries}</td>
                <td>
                  <Time date={t.startDate} />
                </td>
                <td>
                  <Time date={t.endDate} />
                </td>
                <td class="num">
                  <Duration ms={elapsedMs(t.startDate, t.endDate)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

async function loadRun(c: Context<WebEnv>): Promise<{ run: RunSummary & { pk: number }; tasks: RunTaskSummary[] }> {
  const { db } = c.get('engine');
  const run = await getRunSummary(db, c.req.param('dagId')!, c.req.param('runId')!);
  return { run, tasks: await summarizeRunTasks(db, run.pk) };
}

/** `GET /dags/:dagId/runs/:runId`: a run, its params and task instances, with its actions. */
export async function runPage(c: Context<WebEnv>): Promise<Response> {
  const { run, tasks } = await loadRun(c);
  return c.html(
    <Layout c={c} title={`${run.dagId} · ${run.runId}`} section="dags">
      <RunHeading c={c} run={run} tasks={tasks} tab="details" />
      <RunLive c={c} run={run} tasks={tasks} />
    </Layout>,
  );
}

/** Where a bar starts and how wide it is, in % of the chart. @internal */
export function barGeometry(from: number, to: number, start: number, span: number): { left: number; width: number } {
  const left = ((from - start) / span) * 100;
  return { left: Math.max(0, left), width: Math.max(0.4, ((to - from) / span) * 100) };
}

/** `GET /dags/:dagId/runs/:runId/gantt`: when each task was queued and ran, on one time axis. */
export async function ganttPage(c: Context<WebEnv>): Promise<Response> {
  const { run, tasks } = await loadRun(c);
  const now = Date.now();
  const times = tasks.flatMap((t) => [t.queuedAt, t.startDate, t.endDate]).filter((d): d is Date => d !== null).map((d) => d.getTime());
  const start = Math.min(...times, run.startDate?.getTime() ?? now);
  const end = Math.max(...times, run.endDate?.getTime() ?? (isActiveRun(run.state) ? now : start + 1000));
  const span = Math.max(1, end - start);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ f, label: formatDuration(f * span) }));
  const active = isActiveRun(run.state);
  const poll = active ? { 'hx-get': runPath(run.dagId, run.runId, 'gantt'), 'hx-trigger': 'every 3s', 'hx-select': '#gantt', 'hx-swap': 'outerHTML' } : {};
  return c.html(
    <Layout c={c} title={`${run.dagId} · ${run.runId} gantt`} section="dags">
      <RunHeading c={c} run={run} tasks={tasks} tab="gantt" />
      <section class="card" id="gantt" {...poll}>
        <p class="muted small">
          From {formatTime(new Date(start))} UTC; light segments are time spent queued, solid ones running.
        </p>
        <div class="gantt">
          <div class="gantt-row axis">
            <div class="gantt-name"></div>
            <div class="gantt-track">
              {ticks.map((t) => (
                <span class="tick" style={`left:${t.f * 100}%`}>
                  {t.label}
                </span>
              ))}
            </div>
          </div>
          {tasks.map((t) => {
            const state = taskState(t);
            const started = t.startDate?.getTime();
            const queued = t.queuedAt?.getTime();
            const finished = t.endDate?.getTime() ?? (started !== undefined && (state === 'running' || state === 'deferred') ? now : undefined);
            const wait = queued !== undefined && (started ?? now) > queued ? barGeometry(queued, started ?? now, start, span) : null;
            const ran = started !== undefined && finished !== undefined ? barGeometry(started, finished, start, span) : null;
            const title = `${t.taskId}: ${state ?? 'none'}${t.mapped ? ` (${describeCounts(t.states)})` : ''}\nqueued ${formatTime(t.queuedAt)}\nstarted ${formatTime(t.startDate)}\nended ${formatTime(t.endDate)}\nran ${formatDuration(elapsedMs(t.startDate, t.endDate))}`;
            return (
              <div class="gantt-row">
                <div class="gantt-name">
                  <a href={taskPath(run.dagId, run.runId, t.taskId)}>{t.taskId}</a>
                  {t.mapped ? <span class="mapped">[{t.count}]</span> : null}
                </div>
                <div class="gantt-track" title={title}>
                  {wait ? <span class={`gantt-bar queued-part s-${cssState(state)}`} style={`left:${wait.left}%;width:${wait.width}%`}></span> : null}
                  {ran ? <span class={`gantt-bar s-${cssState(state)}`} style={`left:${ran.left}%;width:${ran.width}%`}></span> : null}
                  {!wait && !ran ? <span class="muted small not-run">{state === null || state === 'none' ? 'not started' : state.replaceAll('_', ' ')}</span> : null}
                </div>
              </div>
            );
          })}
        </div>
      </section>
    </Layout>,
  );
}
