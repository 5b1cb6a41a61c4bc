/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { DEFAULT_POOL, countPools, createPool, deletePool, getPool, listPools, updatePool, type PoolSummary } from '../../service/pools.js';
import { requestActor } from '../auth/middleware.js';
import type { WebEnv } from '../types.js';
import { setFlash } from './access.js';
import { ADMIN_PAGE_SIZE, AdminOnlyNote, RowActions, canAdmin, confirmStep, Field, formErrorOf, formFields, formPage, TextInput, type FormError } from './admin-forms.js';
import { Pager, PageHeading } from './components.js';
import { Layout } from './layout.js';
import { adminPath, intParam } from './paths.js';

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

/** `GET /pools?offset=`: pools with their running, queued, scheduled and open slots; admins get the forms. */
export async function poolsPage(c: Context<WebEnv>): Promise<Response> {
  const { db } = c.get('engine');
  const offset = intParam(c.req.query('offset'), 0, 0);
  const [pools, total] = await Promise.all([listPools(db, { limit: ADMIN_PAGE_SIZE, offset }), countPools(db)]);
  const admin = canAdmin(c);
  return c.html(
    <Layout c={c} title="Pools" section="pools">
      <PageHeading
        title="Pools"
        sub={<p class="desc">Slots limit how many task instances of a pool are queued or running at once.</p>}
        actions={admin ? <a class="btn primary" href={adminPath('pools', undefined, 'new')}>New pool</a> : undefined}
      />
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
              {admin ? <th></th> : null}
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
                {admin ? <RowActions list="pools" id={p.name} deletable={p.name !== DEFAULT_POOL} /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Pager path="/pools" query={{}} offset={offset} limit={ADMIN_PAGE_SIZE} shown={pools.length} total={total} />
      {admin ? null : <AdminOnlyNote what="pools" />}
    </Layout>,
  );
}

interface PoolForm {
  name: string;
  slots: string;
  description: string;
}

function poolForm(c: Context<WebEnv>, form: PoolForm, editing: boolean, error?: FormError, status: 200 | 400 | 409 = 200) {
  const title = editing ? `Edit pool ${form.name}` : 'New pool';
  return formPage(
    c,
    {
      title,
      section: 'pools',
      crumbs: [['Pools', '/pools'], [editing ? form.name : 'new', null]],
      action: editing ? adminPath('pools', form.name, 'edit') : adminPath('pools', undefined, 'new'),
      error,
      submit: editing ? 'Save' : 'Create pool',
      back: '/pools',
      intro: editing ? 'Task instances waiting for the pool start at once when it grows.' : undefined,
      children: (
        <>
          {editing ? null : (
            <Field id="p-name" name="name" label="Name" error={error} hint="Letters, digits, '_', '.' and '-'; tasks name it in their pool option.">
              <TextInput id="p-name" name="name" value={form.name} error={error} required autofocus />
            </Field>
          )}
          <Field id="p-slots" name="slots" label="Slots" error={error} hint="-1 for unlimited.">
            <TextInput id="p-slots" name="slots" value={form.slots} error={error} inputmode="numeric" required />
          </Field>
          <Field id="p-description" name="description" label="Description" error={error}>
            <TextInput id="p-description" name="description" value={form.description} error={error} />
          </Field>
        </>
      ),
    },
    status,
  );
}

/** The slots typed into the form, or the field error saying why they are not a number. */
function slotsOf(text: string): number | FormError {
  return /^-?\d+$/.test(text) ? Number(text) : { field: 'slots', message: `slots: expected a whole number ≥ 0, or -1 for unlimited, got '${text}'` };
}

/** `GET /pools/new`: the form for a new pool (admins). */
export function poolNewPage(c: Context<WebEnv>): Response | Promise<Response> {
  return poolForm(c, { name: '', slots: '', description: '' }, false);
}

/** `POST /pools/new`: create a pool through the same `createPool` as the CLI and REST API. */
export async function poolCreateSubmit(c: Context<WebEnv>): Promise<Response> {
  const fields = await formFields(c);
  const form: PoolForm = { name: fields.name ?? '', slots: fields.slots ?? '', description: fields.description ?? '' };
  const slots = slotsOf(form.slots);
  if (typeof slots !== 'number') return poolForm(c, form, false, slots, 400);
  try {
    const pool = await createPool(c.get('engine').context, { name: form.name, slots, description: form.description || null }, requestActor(c));
    setFlash(c, `Created pool ${pool.name} with ${pool.slots === -1 ? 'unlimited' : pool.slots} slots.`);
    return c.redirect('/pools', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return poolForm(c, form, false, failed.error, failed.status);
  }
}

/** `GET /pools/:name/edit`: the form changing a pool's slots and description (admins). */
export async function poolEditPage(c: Context<WebEnv>): Promise<Response> {
  const pool = await getPool(c.get('engine').db, c.req.param('name')!);
  return poolForm(c, { name: pool.name, slots: String(pool.slots), description: pool.description ?? '' }, true);
}

/** `POST /pools/:name/edit`: change a pool through the same `updatePool` as the CLI and REST API. */
export async function poolEditSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = c.req.param('name')!;
  const fields = await formFields(c);
  const form: PoolForm = { name, slots: fields.slots ?? '', description: fields.description ?? '' };
  const slots = slotsOf(form.slots);
  if (typeof slots !== 'number') return poolForm(c, form, true, slots, 400);
  try {
    const pool = await updatePool(c.get('engine').context, name, { slots, description: form.description || null }, requestActor(c));
    setFlash(c, `Saved pool ${pool.name}: ${pool.slots === -1 ? 'unlimited' : pool.slots} slots.`);
    return c.redirect('/pools', 303);
  } catch (error) {
    const failed = formErrorOf(error);
    return poolForm(c, form, true, failed.error, failed.status);
  }
}

/** `GET /pools/:name/delete`: confirm deleting a pool. */
export async function poolDeleteConfirm(c: Context<WebEnv>): Promise<Response> {
  const pool = await getPool(c.get('engine').db, c.req.param('name')!);
  const waiting = pool.queuedSlots + pool.runningSlots + pool.scheduledSlots;
  return confirmStep(c, {
    title: `Delete pool ${pool.name}`,
    action: adminPath('pools', pool.name, 'delete'),
    body: (
      <p>
        Task instances naming it wait until a pool of that name exists again.
        {waiting > 0 ? <strong> {waiting} slots of it are in use or wanted now.</strong> : null}
      </p>
    ),
    submit: 'Delete pool',
    back: '/pools',
    section: 'pools',
  });
}

/** `POST /pools/:name/delete`: delete through the same `deletePool` as the CLI and REST API. */
export async function poolDeleteSubmit(c: Context<WebEnv>): Promise<Response> {
  const name = c.req.param('name')!;
  try {
    await deletePool(c.get('engine').db, name, requestActor(c));
    setFlash(c, `Deleted pool ${name}.`);
  } catch (error) {
    setFlash(c, formErrorOf(error).error.message, 'error');
  }
  return c.redirect('/pools', 303);
}
