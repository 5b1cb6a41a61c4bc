/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { listAuditLog, type AuditRecord } from '../../service/audit.js';
import { getDagCached } from '../../service/dag-details.js';
import type { WebEnv } from '../types.js';
import { Pager, PageHeading, Time } from './components.js';
import { DagHeader } from './dag-header.js';
import { Layout } from './layout.js';
import { dagPath, intParam, runPath, taskPath, withQuery } from './paths.js';

const PAGE = 100;

/** The audit entries as a table: who, what, which object, when, from where, details. */
export function AuditTable({ entries, showDag = true }: { entries: AuditRecord[]; showDag?: boolean }) {
  return (
    <table class="table audit">
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          <th>From</th>
          <th>Action</th>
          <th>Object</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {entries.length === 0 ? (
          <tr>
            <td colspan={6} class="empty">
              Nothing recorded.
            </td>
          </tr>
        ) : null}
        {entries.map((e) => (
          <tr>
            <td>
              <Time date={e.at} />
            </td>
            <td>
              <a href={withQuery('/audit-log', { actor: e.actor })}>{e.actor}</a>
            </td>
            <td>
              <code>{e.origin}</code>
            </td>
            <td>
              <a class="pill" href={withQuery('/audit-log', { action: e.action })}>
                {e.action}
              </a>
            </td>
            <td>
              {e.dagId && showDag ? <a href={dagPath(e.dagId)}>{e.dagId}</a> : null}
              {e.dagId && e.runId ? (
                <>
                  {showDag ? ' / ' : ''}
                  <a href={runPath(e.dagId, e.runId)}>{e.runId}</a>
                </>
              ) : null}
              {e.dagId && e.runId && e.taskId ? (
                <>
                  {' / '}
                  <a href={taskPath(e.dagId, e.runId, e.taskId)}>{e.taskId}</a>
                </>
              ) : null}
              {e.object ? <code>{e.object}</code> : null}
            </td>
            <td class="details-cell">{Object.keys(e.details).length ? <code class="small">{JSON.stringify(e.details)}</code> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `GET /audit-log?actor=&action=&dagId=`: who did what, to which object, when and from where. */
export async function auditPage(c: Context<WebEnv>): Promise<Response> {
  const q = { actor: c.req.query('actor') || undefined, action: c.req.query('action') || undefined, dagId: c.req.query('dagId') || undefined };
  const offset = intParam(c.req.query('offset'), 0, 0);
  const entries = await listAuditLog(c.get('engine').db, { ...q, limit: PAGE, offset });
  return c.html(
    <Layout c={c} title="Audit log" section="audit">
      <PageHeading title="Audit log" sub={<p class="desc">Every sign-in and action, from the pages, the REST API and the CLI.</p>} />
      <form class="filters" method="get" action="/audit-log">
        <input type="text" name="actor" value={q.actor ?? ''} placeholder="who" aria-label="Who" />
        <input type="text" name="action" value={q.action ?? ''} placeholder="action (clear, trigger, login…)" aria-label="Action" />
        <input type="text" name="dagId" value={q.dagId ?? ''} placeholder="DAG id" aria-label="DAG id" />
        <button type="submit" class="btn">
          Filter
        </button>
        {q.actor || q.action || q.dagId ? (
          <a class="btn ghost" href="/audit-log">
            Clear filters
          </a>
        ) : null}
      </form>
      <section class="card flush">
        <AuditTable entries={entries} />
      </section>
      <Pager path="/audit-log" query={q} offset={offset} limit={PAGE} shown={entries.length} />
    </Layout>,
  );
}

/** `GET /dags/:dagId/audit`: the audit entries of one DAG. */
export async function dagAuditPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const offset = intParam(c.req.query('offset'), 0, 0);
  const entries = await listAuditLog(db, { dagId: dag.dagId, limit: PAGE, offset });
  return c.html(
    <Layout c={c} title={`${dag.dagId} audit log`} section="dags">
      <DagHeader c={c} dag={dag} tab="audit" />
      <section class="card flush">
        <AuditTable entries={entries} showDag={false} />
      </section>
      <Pager path={dagPath(dag.dagId, 'audit')} query={{}} offset={offset} limit={PAGE} shown={entries.length} />
    </Layout>,
  );
}
