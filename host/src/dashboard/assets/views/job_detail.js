// Job detail: the job's settings, its runs (status, lateness, duration, attempt, catch-up,
// result or error, logs), a chart of the last runs, and the missed or skipped ticks with
// their reasons. Runs appear live from the event stream.

import { api, seg } from '../api.js';
import { runChart } from '../chart.js';
import { debounce, errorBox, h, replace, table, td } from '../dom.js';
import { badge, bytes, duration, lateness, time } from '../format.js';
import { subscribe } from '../live.js';
import { jobActions } from './jobs.js';

const RUN_LIMIT = 100;
const CHART_RUNS = 30;
const EXECUTED = new Set(['running', 'succeeded', 'failed', 'timed_out']);

function summary(job) {
  const item = (term, ...value) => [h('dt', { text: term }), h('dd', {}, ...value)];
  return h('dl', { class: 'summary', id: 'job-summary' },
    item('Schedule', h('span', { text: job.schedule_description }), ' ', h('code', { text: job.schedule })),
    item('Time zone', job.timezone),
    item('Next tick', time(job.next_tick_at)),
    item('Owner', h('span', { 'data-field': 'owner', text: job.owner || '—' })),
    item('Status', h('span', { class: `state state-${job.status}`, 'data-field': 'status', text: job.status })),
    item('Plugin', h('a', { href: '#/plugins', text: job.plugin })),
    item('Overlap', job.overlap),
    item('Misfire', `${job.misfire} (window ${job.catchup_window})`),
    item('Jitter', job.jitter),
    item('Timeout', job.timeout || 'cluster default'),
    item('Memory limit', job.memory_limit ? bytes(job.memory_limit) : 'cluster default'),
    item('Allowed hosts', job.allowed_hosts.length ? job.allowed_hosts.join(', ') : 'none'),
    item('Version', String(job.version)),
    item('Created', time(job.created_at)),
    item('Updated', time(job.updated_at)),
    item('Input', h('pre', { class: 'mono', text: JSON.stringify(job.input) })));
}

function outcome(run) {
  if (run.error) return h('span', { class: 'error-text', text: run.error });
  if (run.result !== null && run.result !== undefined) return h('span', { class: 'mono', text: run.result });
  return '—';
}

function runRow(run) {
  const late = lateness(run);
  return h('tr', { 'data-run': run.id, 'data-status': run.status },
    td('Scheduled', time(run.scheduled_at)),
    td('Status', badge(run.status)),
    td('Lateness', h('span', { class: 'num', text: duration(late) })),
    td('Duration', h('span', { class: 'num', text: duration(run.duration_ms) })),
    td('Attempt', String(run.attempt)),
    td('Kind', [run.catch_up ? h('span', { class: 'tag', text: 'catch-up' }) : null, run.manual ? h('span', { class: 'tag', text: 'manual' }) : null,
      !run.catch_up && !run.manual ? 'scheduled' : null]),
    td('Replica', run.instance_id || '—'),
    td('Result / error', outcome(run)),
    td('Logs', run.logs ? h('details', {}, h('summary', { text: lines(run.logs) }), h('pre', { class: 'logs', text: run.logs })) : '—'));
}

function lines(text) {
  const n = text.split('\n').filter(Boolean).length;
  return `${n} ${n === 1 ? 'line' : 'lines'}`;
}

function missedRow(run) {
  return h('tr', { 'data-run': run.id, 'data-status': run.status },
    td('Scheduled', time(run.scheduled_at)),
    td('Status', badge(run.status)),
    td('Reason', h('code', { text: run.reason || '—' })),
    td('Recorded by', run.instance_id || '—'));
}

export function mount(main, params) {
  const id = params.id;
  const head = h('div', { class: 'title-row' });
  const info = h('section', { 'aria-labelledby': 'job-h' });
  const chart = h('section', { 'aria-labelledby': 'chart-h', class: 'panel' });
  const runs = h('section', { 'aria-labelledby': 'runs-h' });
  const crumb = h('span', { text: id });
  const missed = h('section', { 'aria-labelledby': 'missed-h' });
  replace(main, h('p', { class: 'crumbs' }, h('a', { href: '#/jobs', text: 'Jobs' }), ' / ', crumb), head, info, chart, runs, missed);
  let jobId = null;

  async function loadJob() {
    try {
      const job = await api('GET', `/jobs/${seg(id)}`);
      jobId = job.id;
      crumb.textContent = job.name;
      replace(head, h('h1', { id: 'job-h', text: job.name }),
        jobActions(job, { after: loadAll, onDeleted: () => { location.hash = '#/jobs'; } }));
      replace(info, job.warning ? h('p', { class: 'warn', text: job.warning }) : null, summary(job));
    } catch (e) {
      replace(head, h('h1', { id: 'job-h', text: id }));
      replace(info, errorBox(e.status === 404 ? 'This job does not exist (any more).' : e.message));
    }
  }

  async function loadRuns() {
    try {
      const page = await api('GET', `/jobs/${seg(id)}/runs?limit=${RUN_LIMIT}`);
      const executed = page.items.filter((r) => EXECUTED.has(r.status));
      const other = page.items.filter((r) => !EXECUTED.has(r.status));
      const points = executed.filter((r) => r.status !== 'running').slice(0, CHART_RUNS).reverse()
        .map((r) => ({ id: r.id, duration_ms: r.duration_ms, lateness_ms: lateness(r) }));
      replace(chart, h('h2', { id: 'chart-h', text: 'Last runs' }),
        points.length ? runChart(points) : h('p', { class: 'muted', text: 'No finished run yet.' }));
      replace(runs, h('h2', { id: 'runs-h' }, 'Runs ', h('span', { class: 'count', id: 'run-count', text: String(executed.length) })),
        executed.length
          ? table('Runs, newest first', ['Scheduled', 'Status', 'Lateness', 'Duration', 'Attempt', 'Kind', 'Replica', 'Result / error', 'Logs'], executed.map(runRow), { id: 'runs' })
          : h('p', { class: 'muted', text: 'No run yet: runs appear here as they start.' }));
      replace(missed, h('h2', { id: 'missed-h', text: 'Missed and skipped ticks' }),
        other.length
          ? table('Missed and skipped ticks', ['Scheduled', 'Status', 'Reason', 'Recorded by'], other.map(missedRow), { id: 'missed' })
          : h('p', { class: 'muted', text: 'None among the last runs.' }));
    } catch (e) {
      replace(runs, errorBox(e.message));
    }
  }

  async function loadAll() { await Promise.all([loadJob(), loadRuns()]); }

  const reloadRuns = debounce(loadRuns, 150);
  const reloadJob = debounce(loadJob, 150);
  const off = subscribe((e) => {
    const d = e.data || {};
    const mine = d.job_id === jobId || d.job === id || d.job_id === id;
    if (e.kind === 'connected') { reloadJob(); reloadRuns(); }
    if ((e.kind === 'run.started' || e.kind === 'run.finished') && mine) { reloadRuns(); reloadJob(); }
    if (e.kind === 'job.changed' && mine) {
      if (d.change === 'deleted') replace(info, errorBox('This job was deleted.'));
      else { reloadJob(); reloadRuns(); }
    }
  });
  loadAll();
  return () => { off(); reloadRuns.cancel(); reloadJob.cancel(); };
}
