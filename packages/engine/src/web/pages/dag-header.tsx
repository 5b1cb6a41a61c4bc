/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { DagDetail } from '../../service/dag-details.js';
import { hasRole } from '../../service/users.js';
import type { WebEnv } from '../types.js';
import { PageHeading, TagChip, Time } from './components.js';
import { PauseAction } from './dag-list.js';
import { formatSchedule } from './format.js';
import { dagPath } from './paths.js';

/** Tabs of a DAG's page. */
export type DagTab = 'grid' | 'graph' | 'runs' | 'code' | 'versions' | 'details' | 'audit';

const TABS: readonly [DagTab, string][] = [
  ['grid', 'Grid'],
  ['graph', 'Graph'],
  ['runs', 'Runs'],
  ['code', 'Code'],
  ['versions', 'Versions'],
  ['details', 'Details'],
  ['audit', 'Audit log'],
];

/** Whether the signed-in user may act on runs (trigger, clear, mark, cancel, pause). */
export function canOperate(c: Context<WebEnv>): boolean {
  const user = c.get('user');
  return user !== null && hasRole(user.role, 'operator');
}

/** The heading of every tab of a DAG: id, state, description, schedule, actions and the tabs. */
export function DagHeader({ c, dag, tab }: { c: Context<WebEnv>; dag: DagDetail; tab: DagTab }) {
  const operate = canOperate(c);
  const here = new URL(c.req.url);
  return (
    <>
      <PageHeading
        crumbs={[['DAGs', '/'], [dag.dagId, null]]}
        title={
          <>
            {dag.dagId} {dag.isPaused ? <span class="pill muted-pill">paused</span> : null}
            {!dag.isActive ? <span class="pill warn-pill">inactive</span> : null}
          </>
        }
        sub={
          <>
            {dag.description ? <p class="desc">{dag.description}</p> : null}
            <p class="meta">
              <span>
                Schedule <code>{formatSchedule(dag.schedule)}</code>
              </span>
              {dag.nextRunAfter && !dag.isPaused ? (
                <span>
                  Next run <Time date={dag.nextRunAfter} />
                </span>
              ) : null}
              {dag.latestVersion ? <span>Version {dag.latestVersion}</span> : null}
              {dag.file ? (
                <span>
                  File <code>{dag.file}</code>
                </span>
              ) : null}
              {dag.tags.map((t) => (
                <TagChip tag={t} />
              ))}
            </p>
          </>
        }
        actions={
          operate ? (
            <>
              <PauseAction dag={dag} back={here.pathname + here.search} />
              <a class="btn" href={dagPath(dag.dagId, 'backfill')}>
                Backfill…
              </a>
              <a class="btn primary" href={dagPath(dag.dagId, 'trigger')}>
                ▶ Trigger
              </a>
            </>
          ) : null
        }
      />
      <nav class="tabs" aria-label="DAG views">
        {TABS.map(([key, label]) => (
          <a href={dagPath(dag.dagId, key === 'grid' ? undefined : key)} class={key === tab ? 'active' : undefined} aria-current={key === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
    </>
  );
}
