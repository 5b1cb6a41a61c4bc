/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { hasRole } from '../../service/users.js';
import { listImportErrors, searchDags, type DagSummary, type ImportErrorSummary } from '../../service/dags.js';
import { recentRunsByDag, type RecentRun } from '../../service/recent-runs.js';
import type { WebEnv } from '../types.js';
import { ConfirmLink, Pager, StateBadge, TagChip, Time } from './components.js';
import { formatRelative, formatSchedule, formatTime } from './format.js';
import { Layout } from './layout.js';
import { dagPath, intParam, runPath, withQuery } from './paths.js';

/** DAGs per page unless `?limit=` says otherwise (up to 1,000). */
export const DAG_PAGE_SIZE = 50;
const RECENT_RUNS = 10;

interface DagListQuery {
  search: string;
  tags: string[];
  paused: 'all' | 'active' | 'paused';
  limit: number;
  offset: number;
}

function readQuery(c: Context<WebEnv>): DagListQuery {
  const paused = c.req.query('paused');
  return {
    search: (c.req.query('search') ?? '').trim().slice(0, 200),
    tags: (c.req.query('tags') ?? '').split(',').map((t) => t.trim()).filter(Boolean).slice(0, 20),
    paused: paused === 'active' || paused === 'paused' ? paused : 'all',
    limit: intParam(c.req.query('limit'), DAG_PAGE_SIZE, 1, 1000),
    offset: intParam(c.req.query('offset'), 0, 0),
  };
}

const queryValues = (q: DagListQuery) => ({ search: q.search, tags: q.tags.join(','), paused: q.paused === 'all' ? undefined : q.paused, limit: q.limit === DAG_PAGE_SIZE ? undefined : q.limit });

function ImportErrors({ errors }: { errors: ImportErrorSummary[] }) {
  if (errors.length === 0) return null;
  return (
    <details class="banner error" id="import-errors">
      <summary>
        <strong>{errors.length === 1 ? '1 DAG file failed to load' : `${errors.length} DAG files failed to load`}</strong> — its DAGs keep their last good version until the file is fixed.
      </summary>
      {errors.map((e) => (
        <div class="import-error">
          <div>
            <code>{e.file}</code> <span class="muted">at {formatTime(e.occurredAt)}</span>
          </div>
          <pre class="log-text">{e.message}</pre>
        </div>
      ))}
    </details>
  );
}

function RecentRuns({ dagId, runs }: { dagId: string; runs: RecentRun[] }) {
  if (runs.length === 0) return <span class="muted">no runs yet</span>;
  return (
    <span class="recent-runs">
      {[...runs].reverse().map((r) => (
        <a class={`dot s-${r.state}`} href={runPath(dagId, r.runId)} title={`${r.runId} · ${r.state} · ${formatTime(r.logicalDate)}`} aria-label={`run ${r.runId}: ${r.state}`}></a>
      ))}
    </span>
  );
}

function NextRun({ dag }: { dag: DagSummary }) {
  if (dag.schedule === null || (!dag.nextLogicalDate && !dag.nextRunAfter)) return <span class="muted">–</span>;
  if (dag.isPaused) return <span class="muted">paused</span>;
  const at = dag.nextRunAfter ?? dag.nextLogicalDate;
  return (
    <span title={dag.nextLogicalDate ? `logical date ${formatTime(dag.nextLogicalDate)}` : undefined}>
      <Time date={at} /> <span class="muted small">{formatRelative(at)}</span>
    </span>
  );
}

function PauseSwitch({ dag, canAct, back }: { dag: DagSummary; canAct: boolean; back: string }) {
  const label = dag.isPaused ? 'Paused' : 'Active';
  if (!canAct) return <span class={`switch ${dag.isPaused ? 'off' : 'on'}`} title={label} aria-label={label}></span>;
  const href = withQuery(`${dagPath(dag.dagId)}/pause`, { paused: dag.isPaused ? 'false' : 'true', next: back });
  return (
    <a class={`switch ${dag.isPaused ? 'off' : 'on'}`} href={href} hx-get={href} hx-target="#dialog-body" title={dag.isPaused ? `Unpause ${dag.dagId}` : `Pause ${dag.dagId}`} aria-label={`${label}: ${dag.isPaused ? 'unpause' : 'pause'} ${dag.dagId}`}></a>
  );
}

/** `GET /`: the DAG list with search, tag and paused filters, recent runs, next run and import errors. */
export async function dagListPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const q = readQuery(c);
  const canAct = hasRole(c.get('user')!.role, 'operator');
  const [{ dags, total }, importErrors] = await Promise.all([
    searchDags(db, { search: q.search || undefined, tags: q.tags, paused: q.paused === 'all' ? undefined : q.paused === 'paused', limit: q.limit, offset: q.offset }),
    listImportErrors(db),
  ]);
  const recent = await recentRunsByDag(db, dags.map((d) => d.dagId), RECENT_RUNS);
  const base = queryValues(q);
  const back = withQuery('/', { ...base, offset: q.offset || undefined });
  return c.html(
    <Layout c={c} title="DAGs" section="dags">
      <div class="page-heading">
        <div class="heading-row">
          <h1>DAGs</h1>
        </div>
      </div>
      <ImportErrors errors={importErrors} />
      <form class="filters" method="get" action="/" role="search">
        <input
          type="search"
          name="search"
          value={q.search}
          placeholder="Search DAGs by id or description"
          aria-label="Search DAGs"
          hx-get="/"
          hx-trigger="input changed delay:300ms, search"
          hx-include="closest form"
          hx-target="#dag-list"
          hx-select="#dag-list"
          hx-swap="outerHTML"
          hx-push-url="true"
        />
        <input type="hidden" name="tags" value={q.tags.join(',')} />
        <div class="segmented" role="group" aria-label="Paused filter">
          {(['all', 'active', 'paused'] as const).map((p) => (
            <a class={q.paused === p ? 'active' : undefined} href={withQuery('/', { ...base, paused: p === 'all' ? undefined : p })}>
              {p === 'all' ? 'All' : p === 'active' ? 'Active' : 'Paused'}
            </a>
          ))}
        </div>
        {q.paused !== 'all' ? <input type="hidden" name="paused" value={q.paused} /> : null}
        <button type="submit" class="btn">Search</button>
      </form>
      <div id="dag-list">
        {q.tags.length > 0 ? (
          <p class="active-filters">
            Tags: {q.tags.map((t) => <span class="tag">{t}</span>)} <a href={withQuery('/', { ...base, tags: undefined })}>clear</a>
          </p>
        ) : null}
        <div class="card flush">
          <table class="table dag-table">
            <thead>
              <tr>
                <th class="narrow" aria-label="Active"></th>
                <th>DAG</th>
                <th>Schedule</th>
                <th>Last run</th>
                <th>Recent runs</th>
                <th>Next run</th>
                <th class="narrow"></th>
              </tr>
            </thead>
            <tbody>
              {dags.length === 0 ? (
                <tr>
                  <td colspan={7} class="empty">
                    {q.search || q.tags.length ? 'No DAG matches these filters.' : 'No DAGs yet: put DAG files in the DAG folder.'}
                  </td>
                </tr>
              ) : null}
              {dags.map((dag) => (
                <tr class={dag.isPaused ? 'paused' : undefined}>
                  <td class="narrow">
                    <PauseSwitch dag={dag} canAct={canAct} back={back} />
                  </td>
                  <td>
                    <a class="dag-id" href={dagPath(dag.dagId)}>
                      {dag.dagId}
                    </a>
                    {dag.description ? <div class="muted small desc">{dag.description}</div> : null}
                    {dag.tags.length > 0 ? (
                      <div class="tags">
                        {dag.tags.map((t) => (
                          <TagChip tag={t} />
                        ))}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <code class="schedule">{formatSchedule(dag.schedule)}</code>
                  </td>
                  <td>
                    {dag.lastRun ? (
                      <a href={runPath(dag.dagId, dag.lastRun.runId)} class="last-run">
                        <StateBadge state={dag.lastRun.state} /> <Time date={dag.lastRun.logicalDate} />
                      </a>
                    ) : (
                      <span class="muted">–</span>
                    )}
                  </td>
                  <td>
                    <RecentRuns dagId={dag.dagId} runs={recent.get(dag.dagId) ?? []} />
                  </td>
                  <td>
                    <NextRun dag={dag} />
                  </td>
                  <td class="narrow">
                    {canAct ? (
                      <a class="btn small" href={dagPath(dag.dagId, 'trigger')} title={`Trigger ${dag.dagId}`}>
                        ▶ Trigger
                      </a>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Pager path="/" query={base} offset={q.offset} limit={q.limit} shown={dags.length} total={total} />
      </div>
    </Layout>,
  );
}

/** The confirm link of a pause switch, for pages other than the list. @internal */
export function PauseAction({ dag, back }: { dag: { dagId: string; isPaused: boolean }; back: string }) {
  return (
    <ConfirmLink href={withQuery(`${dagPath(dag.dagId)}/pause`, { paused: dag.isPaused ? 'false' : 'true', next: back })}>
      {dag.isPaused ? 'Unpause' : 'Pause'}
    </ConfirmLink>
  );
}
