/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { getDagCached } from '../../service/dag-details.js';
import { listRuns } from '../../service/run-queries.js';
import { getRun } from '../../service/runs.js';
import { summarizeRunTasks, type RunTaskSummary } from '../../service/run-tasks.js';
import type { WebEnv } from '../types.js';
import { cssState, StateBadge } from './components.js';
import { DagHeader } from './dag-header.js';
import { describeCounts, formatTime, summaryState } from './format.js';
import { cachedLayout, edgePath, type GraphLayout } from './graph-layout.js';
import { Legend } from './grid.js';
import { Layout } from './layout.js';
import { dagPath, runPath, taskPath } from './paths.js';

/** The DAG drawn as SVG, each task coloured by its state in `run` (when given) and linking to it. */
export function GraphSvg({ dagId, graph, runId, states }: { dagId: string; graph: GraphLayout; runId: string | null; states: Map<string, RunTaskSummary> }) {
  return (
    // Graphs up to about twice a screen's width shrink to fit; larger ones keep their size and scroll.
    <svg class={`graph${graph.width <= 2400 ? ' fit' : ''}`} viewBox={`0 0 ${graph.width} ${graph.height}`} width={graph.width} height={graph.height} role="img" aria-label={`Graph of ${dagId}`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
        </marker>
      </defs>
      {graph.groups.map((g) => (
        <g class="group-box">
          <rect x={g.x} y={g.y} width={g.width} height={g.height} rx="8" />
          <text x={g.x + 10} y={g.y + 14}>
            {g.label}
          </text>
        </g>
      ))}
      {graph.edges.map((e) => (
        <path class="edge" d={edgePath(e.points)} marker-end="url(#arrow)" data-from={e.from} data-to={e.to} />
      ))}
      {graph.nodes.map((n) => {
        const summary = states.get(n.id);
        const state = summary ? summaryState(Object.entries(summary.states).flatMap(([s, k]) => ((k ?? 0) > 0 ? [s as never] : []))) : null;
        const label = summary?.mapped ? `${n.label} [${summary.count}]` : n.mapped ? `${n.label} [ ]` : n.label;
        const tip = `${n.id}\n${n.detail}${summary ? `\n${summary.mapped ? describeCounts(summary.states) : (state ?? 'none')}` : ''}`;
        const body = (
          <g class={`node s-${cssState(state ?? (runId ? 'none' : null))}${runId ? '' : ' plain'}`} transform={`translate(${Math.round(n.x)},${Math.round(n.y)})`} data-task={n.id}>
            <title>{tip}</title>
            <rect class="box" width={n.width} height={n.height} rx="6" />
            <rect class="stripe" width="6" height={n.height} rx="3" />
            <text class="label" x="16" y="18">
              {label}
            </text>
            <text class="detail" x="16" y="33">
              {runId && state ? `${n.detail} · ${state === 'none' ? 'no status' : state.replaceAll('_', ' ')}` : n.detail}
            </text>
          </g>
        );
        return runId ? <a href={taskPath(dagId, runId, n.id)}>{body}</a> : body;
      })}
    </svg>
  );
}

/** `GET /dags/:dagId/graph?run=`: the DAG's graph, coloured by a run's states (the newest by default). */
export async function graphPage(c: Context<WebEnv>): Promise<Response> {
  const engine = c.get('engine');
  const dagId = c.req.param('dagId')!;
  const dag = await getDagCached(engine.context, dagId);
  const recent = (await listRuns(engine.db, { dagId, limit: 25 })).runs;
  const wanted = c.req.query('run');
  const run = wanted ? await getRun(engine.db, dagId, wanted) : recent[0] ? await getRun(engine.db, dagId, recent[0].runId) : null;
  // Draw the version the run ran with; without a run, the latest.
  const structure = run ? await engine.context.versions.get(run.dag_version_id) : null;
  const tasks = structure?.serialized.tasks ?? dag.definition?.tasks ?? [];
  const graph = cachedLayout(engine.context, run ? `id:${run.dag_version_id}` : `${dagId}@${dag.latestVersion ?? 0}`, tasks);
  const states = new Map(run ? (await summarizeRunTasks(engine.db, run.id)).map((s) => [s.taskId, s]) : []);
  return c.html(
    <Layout c={c} title={`${dagId} graph`} section="dags">
      <DagHeader c={c} dag={dag} tab="graph" />
      <section class="card">
        <form class="toolbar" method="get" action={dagPath(dagId, 'graph')}>
          <label>
            Run{' '}
            <select name="run" data-autosubmit="true">
              {run && !recent.some((r) => r.runId === run.run_id) ? <option value={run.run_id} selected>{run.run_id}</option> : null}
              {recent.map((r) => (
                <option value={r.runId} selected={r.runId === run?.run_id}>
                  {`${r.runId} · ${r.state} · ${formatTime(r.logicalDate)}`}
                </option>
              ))}
            </select>
          </label>
          <noscript>
            <button type="submit" class="btn small">Show</button>
          </noscript>
          {run ? (
            <span>
              <StateBadge state={run.state} /> <a href={runPath(dagId, run.run_id)}>run details</a> · <a href={runPath(dagId, run.run_id, 'gantt')}>gantt</a>
            </span>
          ) : (
            <span class="muted">No runs yet: the graph shows the latest version.</span>
          )}
        </form>
        <div class="graph-scroll">
          <GraphSvg dagId={dagId} graph={graph} runId={run?.run_id ?? null} states={states} />
        </div>
        <Legend />
      </section>
    </Layout>,
  );
}
