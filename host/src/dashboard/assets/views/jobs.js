// Jobs: every job with its schedule, next tick, owner and last run; create, edit, pause,
// resume, trigger and delete.

import { api, seg } from '../api.js';
import { actionButton, alertError, debounce, errorBox, h, replace, table, td } from '../dom.js';
import { badge, time } from '../format.js';
import { subscribe } from '../live.js';
import * as form from './job_form.js';

/** Slow fallback refresh (ownership can move without an event of its own). */
const FALLBACK_MS = 15_000;

/** Every job, following the API's pages. */
export async function listJobs() {
  const all = [];
  let after = null;
  for (let i = 0; i < 50; i += 1) {
    const page = await api('GET', `/jobs?limit=500${after ? `&after=${seg(after)}` : ''}`);
    all.push(...page.items);
    if (!page.next) break;
    after = page.next;
  }
  return all;
}

/** The action buttons of a job (pause/resume, trigger, edit, delete). */
export function jobActions(job, { after, onDeleted } = {}) {
  const id = seg(job.id);
  const done = async () => { if (after) await after(); };
  const paused = job.status === 'paused';
  return h('div', { class: 'row-actions' },
    paused
      ? actionButton('Resume', async () => { await api('POST', `/jobs/${id}/resume`); await done(); }, { ariaLabel: `Resume ${job.name}` })
      : actionButton('Pause', async () => { await api('POST', `/jobs/${id}/pause`); await done(); }, { ariaLabel: `Pause ${job.name}` }),
    actionButton('Trigger', async () => { await api('POST', `/jobs/${id}/trigger`); await done(); }, { ariaLabel: `Trigger ${job.name} now` }),
    actionButton('Edit', async () => { location.hash = `#/jobs/${id}/edit`; }, { ariaLabel: `Edit ${job.name}` }),
    actionButton('Delete', async () => {
      if (!window.confirm(`Delete job "${job.name}" with its runs and state?`)) return;
      await api('DELETE', `/jobs/${id}`);
      if (onDeleted) onDeleted(); else await done();
    }, { kind: 'danger', ariaLabel: `Delete ${job.name}` }),
  );
}

function row(job, reload) {
  const last = job.last_run;
  return h('tr', { 'data-job': job.name, 'data-status': job.status },
    td('Name', h('a', { href: `#/jobs/${seg(job.id)}`, text: job.name }),
      job.warning ? h('p', { class: 'warn', text: job.warning }) : null),
    td('Schedule', h('span', { text: job.schedule_description || job.schedule }), h('br'), h('code', { text: job.schedule })),
    td('Time zone', job.timezone),
    td('Next tick', time(job.next_tick_at)),
    td('Owner', h('span', { 'data-field': 'owner', text: job.owner || '—' })),
    td('Last run', last ? [badge(last.status), ' ', time(last.finished_at || last.started_at || last.scheduled_at)] : badge(null)),
    td('Status', h('span', { class: `state state-${job.status}`, 'data-field': 'status', text: job.status })),
    td('Actions', jobActions(job, { after: reload })),
  );
}

export function mount(main, params) {
  if (params.create || params.edit) return form.mount(main, params);
  const filter = h('input', { type: 'search', id: 'job-filter', placeholder: 'Filter by name or plugin', 'aria-label': 'Filter jobs by name or plugin' });
  const summary = h('p', { class: 'muted', id: 'jobs-summary', 'aria-live': 'polite' });
  const body = h('div', { id: 'jobs-body' });
  replace(main,
    h('div', { class: 'title-row' },
      h('h1', { text: 'Jobs' }),
      h('a', { class: 'button primary', href: '#/jobs/new', 'data-action': 'new', text: 'New job' })),
    h('div', { class: 'toolbar' }, filter, summary),
    body);

  let jobs = [];
  function render() {
    const q = filter.value.trim().toLowerCase();
    const shown = jobs.filter((j) => !q || j.name.toLowerCase().includes(q) || j.plugin.toLowerCase().includes(q));
    const paused = jobs.filter((j) => j.status === 'paused').length;
    summary.textContent = `${jobs.length} ${jobs.length === 1 ? 'job' : 'jobs'}, ${paused} paused${q ? `; ${shown.length} shown` : ''}`;
    if (!jobs.length) {
      replace(body, h('p', { class: 'empty' }, 'No jobs yet. ', h('a', { href: '#/jobs/new', text: 'Create one' }), '.'));
      return;
    }
    replace(body, table('Jobs', ['Name', 'Schedule', 'Time zone', 'Next tick', 'Owner', 'Last run', 'Status', 'Actions'],
      shown.map((j) => row(j, load)), { id: 'jobs' }));
  }
  async function load() {
    try {
      jobs = await listJobs();
      render();
    } catch (e) {
      replace(body, errorBox(e.message));
    }
  }
  filter.addEventListener('input', render);

  const reload = debounce(() => load().catch(alertError), 200);
  const later = [];
  const off = subscribe((e) => {
    if (['connected', 'job.changed', 'run.started', 'run.finished', 'plugin.loaded', 'plugin.failed'].includes(e.kind)) reload();
    if (e.kind === 'instance.left' || e.kind === 'instance.joined') {
      // Peers claim or rebalance jobs shortly after a membership change.
      reload();
      later.push(setTimeout(reload, 3000), setTimeout(reload, 8000));
    }
  });
  const timer = setInterval(reload, FALLBACK_MS);
  load();
  return () => { off(); clearInterval(timer); reload.cancel(); later.forEach(clearTimeout); };
}
