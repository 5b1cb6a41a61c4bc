/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { raw } from 'hono/html';
import { RUN_STATES, type RunState } from '../../db/schema.js';
import { getDagCached, type DagDetail } from '../../service/dag-details.js';
import { getGrid, type GridRun } from '../../service/grid.js';
import type { WebEnv } from '../types.js';
import { cssState } from './components.js';
import { DagHeader } from './dag-header.js';
import { describeCounts, elapsedMs, formatDuration, formatTime } from './format.js';
import { allGroups, buildGridRows, type GridCell, type GridRow, type GridTask } from './grid-model.js';
import { Layout } from './layout.js';
import { dagPath, intParam, runPath, taskPath, withQuery, type QueryValues } from './paths.js';

/** Runs a grid page shows unless `?runs=` says otherwise. */
export const GRID_RUNS = 25;
const RUN_CHOICES = [10, 25, 50, 100] as const;

/** How the grid was asked for: page size, offset, run state filter, open groups. */
export interface GridParams {
  runs: number;
  offset: number;
  state: RunState | undefined;
  /** Open groups; `*` for all of them. */
  open: string[];
}

/** Read the grid's query parameters. @internal */
export function gridParams(c: Context<WebEnv>): GridParams {
  const state = c.req.query('state');
  return {
    runs: intParam(c.req.query('runs'), GRID_RUNS, 1, 100),
    offset: intParam(c.req.query('offset'), 0, 0),
    state: RUN_STATES.includes(state as RunState) ? (state as RunState) : undefined,
    open: (c.req.query('open') ?? '').split(',').filter(Boolean).slice(0, 500),
  };
}

const values = (p: GridParams, change: Partial<GridParams> = {}): QueryValues => {
  const q = { ...p, ...change };
  return { runs: q.runs === GRID_RUNS ? undefined : q.runs, offset: q.offset || undefined, state: q.state, open: q.open.join(',') };
};

const escapeAttr = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** HTML of the shared cells (unmapped, one instance), made once. */
const cellCache = new Map<GridCell, string>();

function cellHtml(cell: GridCell): string {
  if (cell.state === null) return '<td>';
  // Only a state name checked against the known states, and counts, go into a cell.
  const cls = `s-${cssState(cell.state)}${cell.retried ? ' r' : ''}`;
  return cell.counts ? `<td class="${cls}" data-c="${escapeAttr(describeCounts(cell.counts))}">` : `<td class="${cls}">`;
}

/**
 * The cells of one row as HTML. Built as a string because a page has up to tens of thousands of
 * them (end tags left out, as HTML allows, to keep the page small); tooltips are escaped anyway.
 */
function cellsHtml(cells: readonly GridCell[]): string {
  let out = '';
  for (const cell of cells) {
    if (cell.counts) {
      out += cellHtml(cell);
      continue;
    }
    let html = cellCache.get(cell);
    if (html === undefined) cellCache.set(cell, (html = cellHtml(cell)));
    out += html;
  }
  return out;
}

function RunBar({ dagId, run, maxMs }: { dagId: string; run: GridRun; maxMs: number }) {
  const ms = elapsedMs(run.startDate, run.endDate);
  const pct = ms === null || maxMs <= 0 ? 4 : Math.max(6, Math.round((ms / maxMs) * 100));
  const title = `${run.runId}\n${run.state} · ${run.runType}\nlogical date ${formatTime(run.logicalDate)}${ms === null ? '' : `\nduration ${formatDuration(ms)}`}`;
  return (
    <th class="run-col" data-run={run.runId} scope="col">
      <a class="bar-wrap" href={runPath(dagId, run.runId)} title={title} aria-label={`run ${run.runId}: ${run.state}`}>
        <span class={`bar s-${run.state}`} style={`height:${pct}%`}></span>
      </a>
    </th>
  );
}

function RowHeader({ dagId, row, newestRun, params, path }: { dagId: string; row: GridRow; newestRun: GridRun | undefined; params: GridParams; path: string }) {
  const indent = `padding-left:${0.6 + row.depth * 1.1}rem`;
  if (row.kind === 'group') {
    const open = new Set(params.open.includes('*') ? [] : params.open);
    if (row.open) open.delete(row.id);
    else open.add(row.id);
    const href = withQuery(path, values(params, { open: [...open] }));
    return (
      <th class="task-name group-name" style={indent} scope="row">
        <a class="toggle" href={href} hx-get={href} hx-target="#grid" hx-select="#grid" hx-swap="outerHTML" hx-push-url="true" aria-expanded={row.open ? 'true' : 'false'}>
          <span class="caret" aria-hidden="true">{row.open ? '▾' : '▸'}</span>
          {row.label}
        </a>
      </th>
    );
  }
  return (
    <th class="task-name" style={indent} scope="row">
      {newestRun ? <a href={taskPath(dagId, newestRun.runId, row.id)}>{row.label}</a> : <span>{row.label}</span>}
      {row.mapped ? <span class="mapped" title={row.mapSize ? `mapped: up to ${row.mapSize} instances` : 'mapped'}>[{row.mapSize || ''}]</span> : null}
      {row.removed ? <span class="muted small"> (removed)</span> : null}
    </th>
  );
}

/** The grid itself (runs × tasks); re-fetched every few seconds while a shown run is unfinished. */
export function GridView({ dag, data, params, path }: { dag: DagDetail; data: Awaited<ReturnType<typeof getGrid>>; params: GridParams; path: string }) {
  const tasks: GridTask[] = (dag.definition?.tasks ?? []).map((t) => ({ taskId: t.taskId, group: t.group, mapped: t.expand !== null }));
  const groups = allGroups(tasks);
  const open = new Set(params.open.includes('*') ? groups : params.open);
  const rows = buildGridRows(tasks, data.runs.map((r) => r.pk), data.cells, open);
  const maxMs = Math.max(0, ...data.runs.map((r) => elapsedMs(r.startDate, r.endDate) ?? 0));
  const active = data.runs.some((r) => r.state === 'queued' || r.state === 'running');
  const newest = data.runs.at(-1);
  const self = withQuery(path, values(params));
  const poll = active ? { 'hx-get': self, 'hx-trigger': 'every 2s', 'hx-select': '#grid', 'hx-swap': 'outerHTML' } : {};
  return (
    <div id="grid" class="grid-wrap" data-dag={dag.dagId} data-active={active ? 'true' : 'false'} {...poll}>
      <div class="grid-toolbar">
        <span class="muted">
          {data.runs.length === 0 ? 'No runs' : `${data.runs.length} run${data.runs.length === 1 ? '' : 's'}, ${formatTime(data.runs[0]!.logicalDate)} – ${formatTime(newest!.logicalDate)}`}
        </span>
        <span class="spacer"></span>
        {groups.length > 0 ? (
          <>
            <a class="btn small ghost" href={withQuery(path, values(params, { open: ['*'] }))}>Expand groups</a>
            <a class="btn small ghost" href={withQuery(path, values(params, { open: [] }))}>Collapse groups</a>
          </>
        ) : null}
        <div class="segmented small" role="group" aria-label="Run state">
          <a class={params.state === undefined ? 'active' : undefined} href={withQuery(path, values(params, { state: undefined, offset: 0 }))}>All</a>
          {RUN_STATES.map((s) => (
            <a class={params.state === s ? 'active' : undefined} href={withQuery(path, values(params, { state: s, offset: 0 }))}>{s}</a>
          ))}
        </div>
        <div class="segmented small" role="group" aria-label="Runs shown">
          {RUN_CHOICES.map((n) => (
            <a class={params.runs === n ? 'active' : undefined} href={withQuery(path, values(params, { runs: n, offset: 0 }))}>{n}</a>
          ))}
        </div>
        {data.hasOlder ? <a class="btn small" href={withQuery(path, values(params, { offset: params.offset + params.runs }))}>← Older</a> : <span class="btn small disabled">← Older</span>}
        {params.offset > 0 ? <a class="btn small" href={withQuery(path, values(params, { offset: Math.max(0, params.offset - params.runs) }))}>Newer →</a> : <span class="btn small disabled">Newer →</span>}
      </div>
      <div class="grid-scroll">
        <table class="grid" aria-label={`Grid of ${dag.dagId}: tasks by run`}>
          <thead>
            <tr class="bars">
              <th class="task-col" scope="col">
                Task
              </th>
              {data.runs.map((run) => (
                <RunBar dagId={dag.dagId} run={run} maxMs={maxMs} />
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr class={row.kind === 'group' ? 'group' : undefined} data-task={row.id} data-kind={row.kind} hidden={row.hidden}>
                <RowHeader dagId={dag.dagId} row={row} newestRun={newest} params={params} path={path} />
                {raw(cellsHtml(row.cells))}
              </tr>
            ))}
          </tbody>
        </table>
        {tasks.length === 0 ? <p class="empty">This DAG has no tasks.</p> : null}
      </div>
    </div>
  );
}

/** The states' colours, as a key under the grid and graph. */
export function Legend() {
  const states = ['success', 'running', 'failed', 'upstream_failed', 'up_for_retry', 'queued', 'scheduled', 'skipped', 'removed', 'deferred', 'none'];
  return (
    <p class="legend">
      {states.map((s) => (
        <span>
          <span class={`dot s-${s}`}></span>
          {s === 'none' ? 'no status' : s.replaceAll('_', ' ')}
        </span>
      ))}
    </p>
  );
}

/** `GET /dags/:dagId`: the DAG's grid of runs × tasks. */
export async function gridPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const dagId = c.req.param('dagId')!;
  const params = gridParams(c);
  const [dag, data] = await Promise.all([getDagCached(c.get('engine').context, dagId), getGrid(db, dagId, { limit: params.runs, offset: params.offset, state: params.state })]);
  const path = dagPath(dagId);
  return c.html(
    <Layout c={c} title={dagId} section="dags">
      <DagHeader c={c} dag={dag} tab="grid" />
      <section class="card">
        <GridView dag={dag} data={data} params={params} path={path} />
        <Legend />
      </section>
    </Layout>,
  );
}
