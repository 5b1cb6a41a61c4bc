// Tributary web monitor: small enhancements on top of the server-rendered pages and htmx 4.
// Everything works without this file (links and forms); it adds the confirmation dialog, grid cell
// navigation and tooltips, auto-submitting selects and a log that stays scrolled to its end.
// No inline scripts, no eval: the pages' Content-Security-Policy allows scripts from /static only.
(() => {
  'use strict';

  const dialog = () => document.getElementById('dialog');

  // Confirmation steps are fetched into the dialog (hx-target="#dialog-body"): open it when one arrives.
  document.addEventListener('htmx:after:swap', (event) => {
    const target = event.detail && event.detail.ctx && event.detail.ctx.target;
    const d = dialog();
    if (d && target && d.contains(target) && !d.open) {
      d.showModal();
      const first = d.querySelector('button[type=submit]:not([disabled]), input, select');
      if (first) first.focus();
    }
    pinLogs();
  });

  document.addEventListener('close', (event) => {
    if (event.target === dialog()) document.getElementById('dialog-body').replaceChildren();
  }, true);

  const enc = encodeURIComponent;

  /** The task, run and state a grid cell stands for. */
  function gridCell(cell) {
    const table = cell.closest('table.grid');
    const row = cell.parentElement;
    if (!table || !row || cell.cellIndex < 1) return null;
    const head = table.tHead && table.tHead.rows[0] && table.tHead.rows[0].cells[cell.cellIndex];
    const state = (cell.className.match(/\bs-([a-z_]+)/) || [])[1] || null;
    return {
      dag: table.closest('#grid').dataset.dag,
      run: head ? head.dataset.run : null,
      task: row.dataset.task,
      kind: row.dataset.kind,
      state,
    };
  }

  document.addEventListener('click', (event) => {
    const close = event.target.closest('[data-close-dialog]');
    if (close) {
      const d = close.closest('dialog');
      if (d) d.close();
      return;
    }
    // A click on a grid cell opens that task instance (a group's cell opens the run).
    const cell = event.target.closest('table.grid tbody td');
    if (cell) {
      const info = gridCell(cell);
      if (!info || !info.run || !info.state) return;
      const run = `/dags/${enc(info.dag)}/runs/${enc(info.run)}`;
      window.location.href = info.kind === 'group' ? run : `${run}/tasks/${enc(info.task)}`;
    }
  });

  // Grid tooltips are made on hover: one listener for thousands of cells, no title in the HTML.
  document.addEventListener('mouseover', (event) => {
    const cell = event.target.closest && event.target.closest('table.grid tbody td');
    if (!cell || cell.title) return;
    const info = gridCell(cell);
    if (!info || !info.run) return;
    const lines = [info.task, info.run, info.state ? info.state.replace(/_/g, ' ') : 'no task instance'];
    if (cell.dataset.c) lines.push(cell.dataset.c);
    if (cell.classList.contains('r')) lines.push('retried or cleared');
    cell.title = lines.join('\n');
  });

  // Selects marked data-autosubmit (run and version pickers) apply at once.
  document.addEventListener('change', (event) => {
    const select = event.target;
    if (select.matches && select.matches('select[data-autosubmit]') && select.form) select.form.requestSubmit();
  });

  // Logs stay scrolled to their end while new lines arrive, unless the reader scrolled up.
  const unpinned = new WeakSet();
  document.addEventListener('scroll', (event) => {
    const log = event.target;
    if (!(log instanceof Element) || !log.classList.contains('log')) return;
    if (log.scrollHeight - log.scrollTop - log.clientHeight > 40) unpinned.add(log);
    else unpinned.delete(log);
  }, true);

  function pinLogs() {
    for (const log of document.querySelectorAll('.log')) if (!unpinned.has(log)) log.scrollTop = log.scrollHeight;
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', pinLogs);
  else pinLogs();
})();
