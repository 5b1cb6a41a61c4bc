/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { RUN_STATES, type RunState } from '../../db/schema.js';
import { getDagCached } from '../../service/dag-details.js';
import { listRuns, type RunSummary } from '../../service/run-queries.js';
import type { WebEnv } from '../types.js';
import { Duration, Pager, PageHeading, StateBadge, Time } from './components.js';
import { DagHeader } from './dag-header.js';
import { elapsedMs } from './format.js';
import { Layout } from './layout.js';
import { dagPath, intParam, runPath, withQuery } from './paths.js';

const PAGE = 50;

function RunsTable({ runs, showDag }: { runs: RunSummary[]; showDag: boolean }) {
  return (
    <table class="table">
      <thead>
        <tr>
          {showDag ? <th>DAG</th> : null}
          <th>Run</th>
          <th>State</th>
          <th>Type</th>
          <th>Logical date</th>
          <th>Started</th>
          <th class="num">Duration</th>
          <th>Triggered by</th>
        </tr>
      </thead>
      <tbody>
        {runs.length === 0 ? (
          <tr>
            <td colspan={showDag ? 8 : 7} class="empty">
              No runs.
            </td>
          </tr>
        ) : null}
        {runs.map((r) => (
          <tr>
            {showDag ? (
              <td>
                <a href={dagPath(r.dagId)}>{r.dagId}</a>
              </td>
            ) : null}
            <td>
              <a href={runPath(r.dagId, r.runId)}>{r.runId}</a>
            </td>
            <td>
              <StateBadge state={r.state} />
            </td>
            <td>{r.runType}</td>
            <td>
              <Time date={r.logicalDate} />
            </td>
            <td>
              <Time date={r.startDate} />
            </td>
            <td class="num">
              <Duration ms={elapsedMs(r.startDate, r.endDate)} />
            </td>
            <td>{r.triggeredBy ?? '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StateFilter({ path, state }: { path: string; state: RunState | undefined }) {
  return (
    <div class="segmented" role="group" aria-label="Run state">
      <a class={state === undefined ? 'active' : undefined} href={path}>
        All
      </a>
      {RUN_STATES.map((s) => (
        <a class={state === s ? 'active' : undefined} href={withQuery(path, { state: s })}>
          {s}
        </a>
      ))}
    </div>
  );
}

function readState(c: Context<WebEnv>): RunState | undefined {
  const s = c.req.query('state');
  return RUN_STATES.includes(s as RunState) ? (s as RunState) : undefined;
}

/** `GET /runs?state=`: runs of every DAG, newest first. */
export async function runsPage(c: Context<WebEnv>): Promise<Response> {
  const state = readState(c);
  const offset = intParam(c.req.query('offset'), 0, 0);
  const { runs, total } = await listRuns(c.get('engine').db, { state, limit: PAGE, offset });
  return c.html(
    <Layout c={c} title="Runs" section="runs">
      <PageHeading title="Runs" />
      <div class="filters">
        <StateFilter path="/runs" state={state} />
      </div>
      <section class="card flush">
        <RunsTable runs={runs} showDag={true} />
      </section>
      <Pager path="/runs" query={{ state }} offset={offset} limit={PAGE} shown={runs.length} total={total} />
    </Layout>,
  );
}

/** `GET /dags/:dagId/runs?state=`: the runs of one DAG. */
export async function dagRunsPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const state = readState(c);
  const offset = intParam(c.req.query('offset'), 0, 0);
  const { runs, total } = await listRuns(db, { dagId: dag.dagId, state, limit: PAGE, offset });
  const path = dagPath(dag.dagId, 'runs');
  return c.html(
    <Layout c={c} title={`${dag.dagId} runs`} section="dags">
      <DagHeader c={c} dag={dag} tab="runs" />
      <div class="filters">
        <StateFilter path={path} state={state} />
      </div>
      <section class="card flush">
        <RunsTable runs={runs} showDag={false} />
      </section>
      <Pager path={path} query={{ state }} offset={offset} limit={PAGE} shown={runs.length} total={total} />
    </Layout>,
  );
}
