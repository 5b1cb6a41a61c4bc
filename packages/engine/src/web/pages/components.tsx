/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { TASK_STATES, type TaskState } from '../../db/schema.js';
import { formatDuration, formatRelative, formatTime, prettyJson } from './format.js';
import { withQuery, type QueryValues } from './paths.js';

/** A state as a coloured label (`none` and null read "no status"). */
export function StateBadge({ state }: { state: string | null }) {
  const name = state ?? 'none';
  return <span class={`state s-${cssState(name)}`}>{name === 'none' ? 'no status' : name.replaceAll('_', ' ')}</span>;
}

/** A small coloured square for a state, with the state as its tooltip. */
export function StateDot({ state, title }: { state: string | null; title?: string }) {
  const name = state ?? 'none';
  return <span class={`dot s-${cssState(name)}`} title={title ?? name} role="img" aria-label={title ?? name}></span>;
}

const KNOWN = new Set<string>([...TASK_STATES, 'none']);

/** A state name safe to put in a class (unknown values fall back to `none`). */
export function cssState(state: string | null): TaskState | 'none' {
  return state && KNOWN.has(state) ? (state as TaskState) : 'none';
}

/** A timestamp in UTC, with how long ago as its tooltip. */
export function Time({ date }: { date: Date | null | undefined }) {
  if (!date) return <span class="muted">–</span>;
  return (
    <time datetime={date.toISOString()} title={formatRelative(date)}>
      {formatTime(date)}
    </time>
  );
}

/** A duration, or a dash. */
export function Duration({ ms }: { ms: number | null | undefined }) {
  const text = formatDuration(ms);
  return text ? <span class="num">{text}</span> : <span class="muted">–</span>;
}

/** JSON, pretty-printed and escaped. */
export function JsonBlock({ value, empty = 'none' }: { value: unknown; empty?: string }) {
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0)) return <p class="muted">{empty}</p>;
  return <pre class="json">{prettyJson(value)}</pre>;
}

/** Previous/next page links of a list paged by `offset`. */
export function Pager({ path, query, offset, limit, shown, total }: { path: string; query: QueryValues; offset: number; limit: number; shown: number; total?: number }) {
  const hasNext = total === undefined ? shown >= limit : offset + shown < total;
  if (offset === 0 && !hasNext) return total === undefined ? null : <p class="pager muted">{total === 0 ? '' : `${total} in all`}</p>;
  return (
    <nav class="pager" aria-label="Pages">
      {offset > 0 ? <a class="btn small" href={withQuery(path, { ...query, offset: Math.max(0, offset - limit) || undefined })}>← Previous</a> : <span class="btn small disabled">← Previous</span>}
      <span class="muted">
        {shown === 0 ? 'none' : `${offset + 1}–${offset + shown}`}
        {total === undefined ? '' : ` of ${total}`}
      </span>
      {hasNext ? <a class="btn small" href={withQuery(path, { ...query, offset: offset + limit })}>Next →</a> : <span class="btn small disabled">Next →</span>}
    </nav>
  );
}

/**
 * A link that opens a confirmation step: in the dialog when htmx runs, as its own page without
 * JavaScript. The step shows what the action will change and posts the action.
 */
export function ConfirmLink({ href, children, variant }: { href: string; children: Child; variant?: 'danger' | 'primary' }) {
  return (
    <a class={`btn${variant ? ` ${variant}` : ''}`} href={href} hx-get={href} hx-target="#dialog-body" hx-swap="innerHTML">
      {children}
    </a>
  );
}

/** Label–value pairs. */
export function Facts({ items }: { items: readonly [string, Child][] }) {
  return (
    <dl class="facts">
      {items.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** A tag chip linking to the DAG list filtered by it. */
export function TagChip({ tag }: { tag: string }) {
  return (
    <a class="tag" href={withQuery('/', { tags: tag })}>
      {tag}
    </a>
  );
}

/** The heading of a page with optional actions on the right. */
export function PageHeading({ title, sub, actions, crumbs }: { title: Child; sub?: Child; actions?: Child; crumbs?: readonly [string, string | null][] }) {
  return (
    <div class="page-heading">
      {crumbs ? (
        <nav class="crumbs" aria-label="Breadcrumbs">
          {crumbs.map(([label, href], i) => (
            <>
              {i > 0 ? <span class="sep">/</span> : null}
              {href ? <a href={href}>{label}</a> : <span>{label}</span>}
            </>
          ))}
        </nav>
      ) : null}
      <div class="heading-row">
        <div>
          <h1>{title}</h1>
          {sub ? <div class="sub">{sub}</div> : null}
        </div>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
    </div>
  );
}

/** A confirmation form's buttons: submit, and cancel (closing the dialog, or back to `back` on a full page). */
export function FormActions({ submit, danger, disabled, dialog, back }: { submit: Child; danger: boolean; disabled?: boolean; dialog: boolean; back: string }) {
  return (
    <div class="form-actions">
      <button type="submit" id="confirm-submit" class={`btn ${danger ? 'danger' : 'primary'}`} disabled={disabled}>
        {submit}
      </button>
      {dialog ? (
        <button type="button" class="btn ghost" data-close-dialog="true">
          Cancel
        </button>
      ) : (
        <a class="btn ghost" href={back}>
          Cancel
        </a>
      )}
    </div>
  );
}
