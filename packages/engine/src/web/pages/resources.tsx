/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { listConnections } from '../../service/connections.js';
import { listPools, type PoolSummary } from '../../service/pools.js';
import { MASK } from '../../service/secrets.js';
import { listVariables } from '../../service/variables.js';
import type { WebEnv } from '../types.js';
import { JsonBlock, PageHeading, Time } from './components.js';
import { Layout } from './layout.js';

const apiNote = (what: string) => (
  <p class="muted small">
    Admins manage {what} with the CLI or the <a href="/api/v1/docs">REST API</a>.
  </p>
);

function SlotBar({ pool }: { pool: PoolSummary }) {
  if (pool.slots <= 0) return <span class="muted small">{pool.slots === -1 ? 'unlimited' : 'no slots'}</span>;
  const pct = (n: number) => `${Math.min(100, (n / pool.slots) * 100).toFixed(1)}%`;
  return (
    <span class="slot-bar" title={`${pool.runningSlots} running, ${pool.queuedSlots} queued of ${pool.slots}`}>
      <span class="s-running" style={`width:${pct(pool.runningSlots)}`}></span>
      <span class="s-queued" style={`width:${pct(pool.queuedSlots)}`}></span>
    </span>
  );
}

/** `GET /pools`: pools with their running, queued, scheduled and open slots. */
export async function poolsPage(c: Context<WebEnv>): Promise<Response> {
  const pools = await listPools(c.get('engine').db);
  return c.html(
    <Layout c={c} title="Pools" section="pools">
      <PageHeading title="Pools" sub={<p class="desc">Slots limit how many task instances of a pool are queued or running at once.</p>} />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>Pool</th>
              <th class="num">Slots</th>
              <th class="num">Running</th>
              <th class="num">Queued</th>
              <th class="num">Scheduled</th>
              <th class="num">Open</th>
              <th>Use</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr id={`pool-${p.name}`}>
                <td>
                  <code>{p.name}</code>
                </td>
                <td class="num">{p.slots === -1 ? '∞' : p.slots}</td>
                <td class="num">{p.runningSlots}</td>
                <td class="num">{p.queuedSlots}</td>
                <td class="num">{p.scheduledSlots}</td>
                <td class="num">{p.openSlots === -1 ? '∞' : p.openSlots}</td>
                <td>
                  <SlotBar pool={p} />
                </td>
                <td>{p.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {apiNote('pools')}
    </Layout>,
  );
}

/** `GET /variables`: variables, values of secret-looking keys masked. */
export async function variablesPage(c: Context<WebEnv>): Promise<Response> {
  const variables = await listVariables(c.get('engine').db);
  return c.html(
    <Layout c={c} title="Variables" section="variables">
      <PageHeading title="Variables" sub={<p class="desc">Values whose keys look secret (password, token, api_key, …) read as {MASK}.</p>} />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Description</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {variables.length === 0 ? (
              <tr>
                <td colspan={4} class="empty">
                  No variables.
                </td>
              </tr>
            ) : null}
            {variables.map((v) => (
              <tr>
                <td>
                  <code>{v.key}</code>
                </td>
                <td class="value-cell">{v.masked ? <span class="masked">{MASK}</span> : <pre class="inline-value">{v.value}</pre>}</td>
                <td>{v.description ?? ''}</td>
                <td>
                  <Time date={v.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {apiNote('variables')}
    </Layout>,
  );
}

/** `GET /connections`: connections with passwords and secret-looking extras masked. */
export async function connectionsPage(c: Context<WebEnv>): Promise<Response> {
  const connections = await listConnections(c.get('engine').db);
  return c.html(
    <Layout c={c} title="Connections" section="connections">
      <PageHeading title="Connections" sub={<p class="desc">Passwords and secret-looking extras are never shown.</p>} />
      <section class="card flush">
        <table class="table">
          <thead>
            <tr>
              <th>Connection</th>
              <th>Type</th>
              <th>Host</th>
              <th>Schema</th>
              <th>Login</th>
              <th>Password</th>
              <th>Extra</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {connections.length === 0 ? (
              <tr>
                <td colspan={8} class="empty">
                  No connections.
                </td>
              </tr>
            ) : null}
            {connections.map((conn) => (
              <tr>
                <td>
                  <code>{conn.connId}</code>
                  {conn.description ? <div class="muted small">{conn.description}</div> : null}
                </td>
                <td>{conn.connType}</td>
                <td>{conn.host ? `${conn.host}${conn.port ? `:${conn.port}` : ''}` : '–'}</td>
                <td>{conn.schema ?? '–'}</td>
                <td>{conn.login ?? '–'}</td>
                <td>{conn.password === null ? <span class="muted">none</span> : <span class="masked">{MASK}</span>}</td>
                <td class="value-cell">
                  <JsonBlock value={conn.extra} empty="–" />
                </td>
                <td>
                  <Time date={conn.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {apiNote('connections')}
    </Layout>,
  );
}
