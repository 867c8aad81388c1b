// Jobs: a page of jobs at a time (searched and paged by the server) with their schedule,
// next tick, owner and last run; create, edit, pause, resume, trigger and delete. A job declared in a jobs file is marked so; it is not deleted
// here (the file decides), but it is paused, resumed and triggered like any other.

import { api, seg } from '../api.js';
import { actionButton, alertError, debounce, errorBox, h, keyedTable, replace, throttle } from '../dom.js';
import { badge, time } from '../format.js';
import { subscribe } from '../live.js';
import * as form from './job_form.js';
import { managedMark } from './managed.js';
import { pausedText } from './ticks.js';

/** Slow fallback refresh (ownership can move without an event of its own). */
const FALLBACK_MS = 15_000;
/** Jobs on a page of the list. */
const PAGE_SIZE = 100;
/** A live refresh at most this often (a busy cluster sends run events by the thousand). */
const REFRESH_MS = 1_000;

/**
 * The action buttons of a job (pause or resume, trigger, edit, delete) as a component
 * `{ el, update(job) }`: the buttons are made once and relabelled in place when the job
 * changes, so a live refresh never swaps a button out from under the viewer's pointer.
 * Delete is not offered for a job managed by a jobs file; Edit opens its spec read-only.
 */
export function jobActions(job, { after, onDeleted } = {}) {
  let current = job;
  const path = () => `/jobs/${seg(current.id)}`;
  const done = async () => { if (after) await after(); };
  // Pause and Resume are one button: it does what its label said when it was clicked.
  const toggle = actionButton('Pause', async () => {
    const verb = toggle.dataset.action === 'resume' ? 'resume' : 'pause';
    await api('POST', `${path()}/${verb}`);
    await done();
  });
  const trigger = actionButton('Trigger', async () => { await api('POST', `${path()}/trigger`); await done(); });
  const edit = actionButton('Edit', async () => { location.hash = `#${path()}/edit`; });
  const remove = actionButton('Delete', async () => {
    if (!window.confirm(`Delete job "${current.name}" with its runs and state?`)) return;
    await api('DELETE', path());
    if (onDeleted) onDeleted(); else await done();
  }, { kind: 'danger' });
  const el = h('div', { class: 'row-actions' }, toggle, trigger, edit, remove);

  function update(next) {
    current = next;
    if (remove.hidden !== Boolean(next.managed_by)) remove.hidden = Boolean(next.managed_by);
    const editTitle = next.managed_by ? `Managed by ${next.managed_by}: the form is read-only` : null;
    if (edit.getAttribute('title') !== editTitle) {
      if (editTitle) edit.setAttribute('title', editTitle); else edit.removeAttribute('title');
    }
    const verb = next.status === 'paused' ? 'Resume' : 'Pause';
    if (toggle.textContent !== verb) {
      toggle.textContent = verb;
      toggle.dataset.action = verb.toLowerCase();
    }
    const labels = [[toggle, `${verb} ${next.name}`], [trigger, `Trigger ${next.name} now`],
      [edit, `Edit ${next.name}`], [remove, `Delete ${next.name}`]];
    for (const [b, label] of labels) if (b.getAttribute('aria-label') !== label) b.setAttribute('aria-label', label);
  }
  update(job);
  return { el, update };
}

/** The columns of the Jobs table; `reload` refreshes the view after an action. */
function columns(reload) {
  return [
    { label: 'Name', cell: (job) => [h('a', { href: `#/jobs/${seg(job.id)}`, text: job.name }),
      job.managed_by ? [' ', managedMark(job)] : null,
      job.warning ? h('p', { class: 'warn', text: job.warning }) : null] },
    { label: 'Schedule', cell: (job) => [h('span', { text: job.schedule_description || job.schedule }), h('br'), h('code', { text: job.schedule })] },
    { label: 'Time zone', cell: (job) => job.timezone },
    { label: 'Next tick', cell: (job) => time(job.next_tick_at) },
    { label: 'Owner', cell: (job) => h('span', { 'data-field': 'owner', text: job.owner || '—' }) },
    { label: 'Last run', cell: (job) => {
      const last = job.last_run;
      return last ? [badge(last.status), ' ', time(last.finished_at || last.started_at || last.scheduled_at)] : badge(null);
    } },
    { label: 'Status', cell: (job) => [h('span', { class: `state state-${job.status}`, 'data-field': 'status', text: job.status }),
      job.status === 'paused' && job.paused_reason === 'failures'
        ? [' ', h('span', { class: 'tag tag-failures', 'data-field': 'paused-reason', title: pausedText(job), text: 'after failures' })] : null,
      job.stale ? [' ', h('span', { class: 'badge badge-stale', 'data-field': 'stale', title: `No success for ${job.stale_after}`, text: 'stale' })] : null] },
    { label: 'Actions', class: 'admin-only', mount: (job) => jobActions(job, { after: reload }) },
  ];
}

export function mount(main, params) {
  if (params.create || params.edit) return form.mount(main, params);
  const filter = h('input', { type: 'search', id: 'job-filter', placeholder: 'Search names and plugins', 'aria-label': 'Search jobs by name or plugin' });
  const summary = h('p', { class: 'muted', id: 'jobs-summary', 'aria-live': 'polite' });
  const body = h('div', { id: 'jobs-body' });
  const prev = h('button', { type: 'button', id: 'jobs-prev', text: 'Previous page' });
  const next = h('button', { type: 'button', id: 'jobs-next', text: 'Next page' });
  const pager = h('div', { class: 'pager', id: 'jobs-pager' }, prev, next);
  replace(main,
    h('div', { class: 'title-row' },
      h('h1', { text: 'Jobs' }),
      h('a', { class: 'button primary', href: '#/jobs/new', 'data-action': 'new', text: 'New job' })),
    h('div', { class: 'toolbar' }, filter, summary),
    body,
    pager);

  // One page at a time, searched and paged by the server: a cluster of 100,000 jobs is never
  // read whole. `cursors` holds the `after` of every page up to the one shown.
  let cursors = [null];
  let nextCursor = null;
  const rows = keyedTable('Jobs', columns(() => load()), {
    id: 'jobs',
    key: (job) => job.id,
    rowAttrs: (job) => ({ 'data-job': job.name, 'data-status': job.status, 'data-stale': job.stale ? 'true' : null, 'data-managed': job.managed_by ? 'true' : null }),
  });
  const empty = h('p', { class: 'empty' }, 'No jobs yet.', h('span', { 'data-action': 'new' }, ' ', h('a', { href: '#/jobs/new', text: 'Create one' }), '.'));
  const none = h('p', { class: 'empty', id: 'jobs-none' });
  /** Show `content` in the body unless it is there already. */
  const show = (content) => { if (body.firstChild !== content || body.childNodes.length !== 1) replace(body, content); };
  function render(jobs, q) {
    const first = (cursors.length - 1) * PAGE_SIZE;
    const paused = jobs.filter((j) => j.status === 'paused').length;
    const paged = cursors.length > 1 || nextCursor;
    const matching = q ? ` matching “${q}”` : '';
    const text = paged
      ? `Jobs ${jobs.length ? first + 1 : first}–${first + jobs.length}${matching}${nextCursor ? ' (more on the next page)' : ''}, ${paused} paused on this page`
      : `${jobs.length} ${jobs.length === 1 ? 'job' : 'jobs'}${matching}, ${paused} paused`;
    if (summary.textContent !== text) summary.textContent = text;
    prev.disabled = cursors.length <= 1;
    next.disabled = !nextCursor;
    pager.hidden = !paged;
    if (!jobs.length) {
      if (q) {
        none.textContent = `No job's name or plugin contains “${q}”.`;
        show(none);
      } else {
        show(empty);
      }
      return;
    }
    rows.update(jobs);
    show(rows.el);
  }
  let latest = 0;
  async function load() {
    const mine = ++latest;
    const q = filter.value.trim();
    const after = cursors[cursors.length - 1];
    const query = [`limit=${PAGE_SIZE}`, q ? `q=${encodeURIComponent(q)}` : null, after ? `after=${encodeURIComponent(after)}` : null]
      .filter(Boolean).join('&');
    try {
      const page = await api('GET', `/jobs?${query}`);
      // Answers can arrive out of order: only the newest request's is shown.
      if (mine !== latest) return;
      nextCursor = page.next || null;
      render(page.items, q);
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }
  const search = debounce(() => { cursors = [null]; load().catch(alertError); }, 250);
  filter.addEventListener('input', search);
  next.addEventListener('click', () => { if (nextCursor) { cursors.push(nextCursor); load().catch(alertError); } });
  prev.addEventListener('click', () => { if (cursors.length > 1) { cursors.pop(); load().catch(alertError); } });

  const reload = throttle(() => load().catch(alertError), REFRESH_MS);
  const later = [];
  const off = subscribe((e) => {
    if (['connected', 'job.changed', 'job.stale', 'job.recovered', 'run.started', 'run.finished', 'plugin.loaded', 'plugin.failed'].includes(e.kind)) reload();
    if (e.kind === 'instance.left' || e.kind === 'instance.joined') {
      // Peers claim or rebalance jobs shortly after a membership change.
      reload();
      later.push(setTimeout(reload, 3000), setTimeout(reload, 8000));
    }
  });
  const timer = setInterval(reload, FALLBACK_MS);
  load();
  return () => { off(); clearInterval(timer); reload.cancel(); search.cancel(); later.forEach(clearTimeout); };
}
