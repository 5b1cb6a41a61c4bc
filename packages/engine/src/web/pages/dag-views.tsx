/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { getDagCached, getDagSource, listDagVersions } from '../../service/dag-details.js';
import type { WebEnv } from '../types.js';
import { Facts, JsonBlock, Time } from './components.js';
import { DagHeader } from './dag-header.js';
import { formatDuration, formatSchedule } from './format.js';
import { Layout } from './layout.js';
import { dagPath, intParam, withQuery } from './paths.js';

/** `GET /dags/:dagId/code?version=`: the DAG file's source (latest version by default), with line numbers. */
export async function codePage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const wanted = c.req.query('version');
  const [code, versions] = await Promise.all([getDagSource(db, dag.dagId, wanted === undefined ? undefined : intParam(wanted, 0, 1)), listDagVersions(db, dag.dagId)]);
  const lines = (code.source ?? '').split('\n');
  return c.html(
    <Layout c={c} title={`${dag.dagId} code`} section="dags">
      <DagHeader c={c} dag={dag} tab="code" />
      <section class="card">
        <form class="toolbar" method="get" action={dagPath(dag.dagId, 'code')}>
          <label>
            Version{' '}
            <select name="version" data-autosubmit="true">
              {versions.map((v) => (
                <option value={String(v.versionNumber)} selected={v.versionNumber === code.versionNumber}>
                  {`${v.versionNumber} · ${v.hash.slice(0, 10)}`}
                </option>
              ))}
            </select>
          </label>
          <noscript>
            <button type="submit" class="btn small">Show</button>
          </noscript>
          {code.file ? <code class="muted">{code.file}</code> : null}
        </form>
        {code.source === null ? (
          <p class="muted">The source of this version was not stored.</p>
        ) : (
          <pre class="code" aria-label={`Source of ${dag.dagId}`}>
            {lines.map((line) => (
              <span class="line">{`${line}\n`}</span>
            ))}
          </pre>
        )}
      </section>
    </Layout>,
  );
}

/** `GET /dags/:dagId/versions`: every version of the DAG, newest first. */
export async function versionsPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const versions = await listDagVersions(db, dag.dagId);
  return c.html(
    <Layout c={c} title={`${dag.dagId} versions`} section="dags">
      <DagHeader c={c} dag={dag} tab="versions" />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th class="num">Version</th>
              <th>Hash</th>
              <th>Created</th>
              <th class="num">Tasks</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr>
                <td class="num">
                  {v.versionNumber}
                  {v.versionNumber === dag.latestVersion ? <span class="pill"> latest</span> : null}
                </td>
                <td>
                  <code title={v.hash}>{v.hash.slice(0, 16)}</code>
                </td>
                <td>
                  <Time date={v.createdAt} />
                </td>
                <td class="num">{v.taskCount}</td>
                <td>
                  <a href={withQuery(dagPath(dag.dagId, 'code'), { version: v.versionNumber })}>code</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>,
  );
}

/** `GET /dags/:dagId/details`: the DAG's options, docs, params schema and tasks. */
export async function detailsPage(c: Context<WebEnv>): Promise<Response> {
  const dag = await getDagCached(c.get('engine').context, c.req.param('dagId')!);
  const d = dag.definition;
  return c.html(
    <Layout c={c} title={`${dag.dagId} details`} section="dags">
      <DagHeader c={c} dag={dag} tab="details" />
      <div class="columns">
        <section class="card">
          <h2>Options</h2>
          <Facts
            items={[
              ['Schedule', <code>{formatSchedule(dag.schedule)}</code>],
              ['Time zone', dag.timezone],
              ['Start date', d?.startDate ?? '–'],
              ['End date', d?.endDate ?? '–'],
              ['Catchup', d?.catchup ? 'yes' : 'no'],
              ['Max active runs', String(dag.maxActiveRuns)],
              ['Max active tasks', String(dag.maxActiveTasks)],
              ['File', dag.file ? <code>{dag.file}</code> : '–'],
              ['Last parsed', <Time date={dag.lastParsedAt} />],
            ]}
          />
          {d?.docs ? (
            <>
              <h3>Docs</h3>
              <div class="docs">{d.docs}</div>
            </>
          ) : null}
        </section>
        <section class="card">
          <h2>Params schema</h2>
          <JsonBlock value={d?.params ?? null} empty="No params." />
        </section>
      </div>
      <section class="card flush">
        <h2 class="card-title">Tasks ({d?.tasks.length ?? 0})</h2>
        <table class="table">
          <thead>
            <tr>
              <th>Task</th>
              <th>Kind</th>
              <th>Upstream</th>
              <th>Trigger rule</th>
              <th>Pool</th>
              <th class="num">Retries</th>
              <th class="num">Timeout</th>
            </tr>
          </thead>
          <tbody>
            {(d?.tasks ?? []).map((t) => (
              <tr>
                <td>
                  <code>{t.taskId}</code>
                  {t.expand ? <span class="mapped">[ ]</span> : null}
                </td>
                <td>{t.kind === 'operator' ? t.operator : t.sensor ? 'sensor' : t.flow ? t.flow.kind : t.isSetup ? 'setup' : t.isTeardown ? 'teardown' : 'function'}</td>
                <td class="small">{t.upstream.join(', ') || '–'}</td>
                <td>
                  <code>{t.triggerRule}</code>
                </td>
                <td>{t.pool}</td>
                <td class="num">{t.retries}</td>
                <td class="num">{t.executionTimeoutMs === null ? '–' : formatDuration(t.executionTimeoutMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Layout>,
  );
}
