/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { getTaskLogs, type TaskLogLine } from '../../service/logs.js';
import { getTaskInstance, type TaskInstanceDetail } from '../../service/run-queries.js';
import type { WebEnv } from '../types.js';
import { formatTime } from './format.js';
import { intParam, taskPath, withQuery } from './paths.js';

/** Lines fetched per request; a longer log continues with the next request at once. */
export const LOG_PAGE_LINES = 2000;

/** States of an instance that will not run again unless cleared. */
const FINISHED = new Set(['success', 'failed', 'upstream_failed', 'skipped', 'removed']);
/** States in which the instance's current try is writing its log. */
const IN_TRY = new Set(['running', 'deferred']);

/**
 * Whether `tryNumber`'s log may still grow: it is the try running now, or the next try of an
 * instance that will run again (the try number goes up when a try starts).
 */
export function tryMayGrow(ti: Pick<TaskInstanceDetail, 'state' | 'tryNumber'>, tryNumber: number): boolean {
  if (tryNumber === ti.tryNumber) return ti.state !== null && IN_TRY.has(ti.state);
  if (tryNumber === ti.tryNumber + 1) return ti.state === null || !FINISHED.has(ti.state);
  return false;
}

function LogLines({ lines }: { lines: TaskLogLine[] }) {
  return (
    <>
      {lines.map((l) => (
        <div class={`log-line lvl-${/^(debug|info|warn|error|fatal|trace)$/.test(l.level) ? l.level : 'info'}`}>
          <time>{formatTime(l.at).slice(11)}</time>
          <span class="lvl">{l.level}</span>
          <span class="msg">{l.message}</span>
        </div>
      ))}
    </>
  );
}

/**
 * Where the log continues: an element htmx replaces with the next lines and a new one of itself,
 * every second while the try may still write (immediately when a page of lines was full). With
 * `follow`, a tail that reaches the end of a finished try moves on to the instance's next try.
 */
function LogTail({ url, immediate }: { url: string; immediate: boolean }) {
  return <div class="log-tail" hx-get={url} hx-trigger={immediate ? 'load' : 'every 1s'} hx-swap="outerHTML" aria-hidden="true"></div>;
}

interface LogRef {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

function tailUrl(ref: LogRef, tryNumber: number, after: number, follow: boolean): string {
  const base = taskPath(ref.dagId, ref.runId, ref.taskId, ref.mapIndex);
  const [path, query] = base.split('?');
  return withQuery(`${path}/log${query ? `?${query}` : ''}`, { try: tryNumber, after, follow });
}

/** Lines of one try after `after`, and the tail to continue with (none once the try's log is complete). */
export async function logChunk(c: Context<WebEnv>, ti: TaskInstanceDetail, tryNumber: number, after: number, follow: boolean) {
  const db = c.get('engine').db;
  const ref = { dagId: ti.dagId, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex };
  // The state is read before the lines: if the try was over then, these lines are all it wrote.
  const growing = tryMayGrow(ti, tryNumber);
  const lines = await getTaskLogs(db, { ...ref, tryNumber, afterId: after, limit: LOG_PAGE_LINES });
  const last = lines.at(-1)?.id ?? after;
  const full = lines.length === LOG_PAGE_LINES;
  let next: { url: string; immediate: boolean } | null = null;
  let moved: number | null = null;
  if (full) next = { url: tailUrl(ref, tryNumber, last, follow), immediate: true };
  else if (growing) next = { url: tailUrl(ref, tryNumber, last, follow), immediate: false };
  else if (follow && ti.tryNumber > tryNumber) {
    // The try we followed is over and a newer one exists (a retry, or a run after a clear): go on with it.
    moved = ti.tryNumber;
    next = { url: tailUrl(ref, ti.tryNumber, last, follow), immediate: true };
  } else if (follow && (ti.state === null || !FINISHED.has(ti.state))) {
    // Over, but the instance runs again (retry or clear pending): wait for its next try.
    next = { url: tailUrl(ref, tryNumber, last, follow), immediate: false };
  }
  return (
    <>
      <LogLines lines={lines} />
      {moved !== null ? <div class="log-line log-mark">— try {moved} —</div> : null}
      {next ? <LogTail url={next.url} immediate={next.immediate} /> : null}
    </>
  );
}

/** `GET …/tasks/:taskId/log?try=&after=&follow=`: the next lines of a try's log, as HTML for htmx. */
export async function taskLogFragment(c: Context<WebEnv>): Promise<Response> {
  const ti = await getTaskInstance(c.get('engine').db, {
    dagId: c.req.param('dagId')!,
    runId: c.req.param('runId')!,
    taskId: c.req.param('taskId')!,
    mapIndex: intParam(c.req.query('map'), -1, -1),
  });
  const tryNumber = intParam(c.req.query('try'), Math.max(1, ti.tryNumber), 1);
  const after = intParam(c.req.query('after'), 0, 0);
  return c.html(await logChunk(c, ti, tryNumber, after, c.req.query('follow') === '1'));
}
