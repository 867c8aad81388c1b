// Job detail: the job's settings and failure handling (retry policy, why it is paused, stale,
// last success), its runs one row per tick with the tick's attempts listed in it (status,
// lateness, duration, attempt, catch-up, result or error, logs), a chart of the last runs, and
// the missed or skipped ticks with their reasons, and its recent changes (the audit log).
// A job declared in a jobs file says so: its spec is read-only here. Runs appear live from
// the event stream.

import { api, seg } from '../api.js';
import { runChart } from '../chart.js';
import { debounce, errorBox, h, keyedTable, patch, replace } from '../dom.js';
import { badge, bytes, duration, lateness, time } from '../format.js';
import { subscribe } from '../live.js';
import { jobAudit } from './audit.js';
import { jobActions } from './jobs.js';
import { managedNote } from './managed.js';
import { attemptList, groupTicks, pausedText, retryText } from './ticks.js';

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
    item('Status', h('span', { class: `state state-${job.status}`, 'data-field': 'status', text: job.status }),
      job.stale ? [' ', h('span', { class: 'badge badge-stale', 'data-field': 'stale', title: `No success for ${job.stale_after}`, text: 'stale' })] : null,
      pausedText(job) ? [' ', h('span', { class: 'muted', 'data-field': 'paused-reason', 'data-reason': job.paused_reason || 'hand', text: pausedText(job) })] : null),
    item('Last success', h('span', { 'data-field': 'last-success' }, time(job.last_success_at))),
    item('Retry', h('span', { 'data-field': 'retry', text: retryText(job.retry) })),
    item('Pause after', h('span', { 'data-field': 'pause-after', text: job.pause_after_failures ? `${job.pause_after_failures} failed ${job.pause_after_failures === 1 ? 'tick' : 'ticks'}` : 'never' })),
    item('Stale after', h('span', { 'data-field': 'stale-after', text: job.stale_after || 'never' })),
    item('Plugin', h('a', { href: '#/plugins', text: job.plugin })),
    item('Overlap', job.overlap),
    item('Misfire', `${job.misfire} (window ${job.catchup_window})`),
    item('Jitter', job.jitter),
    item('Timeout', job.timeout || 'cluster default'),
    item('Memory limit', job.memory_limit ? bytes(job.memory_limit) : 'cluster default'),
    item('Allowed hosts', job.allowed_hosts.length ? job.allowed_hosts.join(', ') : 'none'),
    item('Secrets', secretNames(job.secrets)),
    item('Managed by', job.managed_by
      ? h('code', { 'data-field': 'managed-by', text: job.managed_by })
      : h('span', { 'data-field': 'managed-by', text: 'the API (no jobs file)' })),
    item('Version', String(job.version)),
    item('Created', time(job.created_at)),
    item('Updated', time(job.updated_at)),
    item('Input', h('pre', { class: 'mono', text: JSON.stringify(job.input) })));
}

// Config keys read from the secrets directory, with the secret's name (never a value).
function secretNames(secrets) {
  const keys = Object.keys(secrets || {});
  return keys.length ? keys.map((k) => `${k} ← ${secrets[k]}`).join(', ') : 'none';
}

function outcome(run) {
  if (run.error) return h('span', { class: 'error-text', text: run.error });
  if (run.result !== null && run.result !== undefined) return h('span', { class: 'mono', text: run.result });
  return '—';
}

/** The runs table's columns, one row per tick (its attempts listed in the Attempt cell); a
 * row's cells are re-rendered only when they change, so an opened log stays open while runs
 * arrive. Lateness is the first attempt's; status, duration, outcome and logs the newest's. */
const RUN_COLUMNS = [
  { label: 'Scheduled', cell: (tick) => time(tick.scheduled_at) },
  { label: 'Status', cell: (tick) => badge(tick.last.status) },
  { label: 'Lateness', cell: (tick) => h('span', { class: 'num', text: duration(lateness(tick.first)) }) },
  { label: 'Duration', cell: (tick) => h('span', { class: 'num', text: duration(tick.last.duration_ms) }) },
  { label: 'Attempt', cell: (tick) => attemptList(tick) },
  { label: 'Kind', cell: ({ first: run }) => [run.catch_up ? h('span', { class: 'tag', text: 'catch-up' }) : null, run.manual ? h('span', { class: 'tag', text: 'manual' }) : null,
    !run.catch_up && !run.manual ? 'scheduled' : null] },
  { label: 'Replica', cell: (tick) => tick.last.instance_id || '—' },
  { label: 'Result / error', cell: (tick) => outcome(tick.last) },
  { label: 'Logs', cell: ({ last: run }) => (run.logs ? h('details', {}, h('summary', { text: lines(run.logs) }), h('pre', { class: 'logs', text: run.logs })) : '—') },
];

function lines(text) {
  const n = text.split('\n').filter(Boolean).length;
  return `${n} ${n === 1 ? 'line' : 'lines'}`;
}

const MISSED_COLUMNS = [
  { label: 'Scheduled', cell: (run) => time(run.scheduled_at) },
  { label: 'Status', cell: (run) => badge(run.status) },
  { label: 'Reason', cell: (run) => h('code', { text: run.reason || '—' }) },
  { label: 'Recorded by', cell: (run) => run.instance_id || '—' },
];

const runAttrs = (run) => ({ 'data-run': run.id, 'data-status': run.status });
const tickAttrs = (tick) => ({ ...runAttrs(tick.last), 'data-tick': tick.scheduled_at, 'data-attempts': tick.attempts.length });

export function mount(main, params) {
  const id = params.id;
  const title = h('h1', { id: 'job-h', text: id });
  const head = h('div', { class: 'title-row' }, title);
  const info = h('section', { 'aria-labelledby': 'job-h' });
  const chart = h('section', { 'aria-labelledby': 'chart-h', class: 'panel' });
  const count = h('span', { class: 'count', id: 'run-count', text: '0' });
  const runsBody = h('div');
  const runs = h('section', { 'aria-labelledby': 'runs-h' }, h('h2', { id: 'runs-h' }, 'Runs by tick ', count), runsBody);
  const crumb = h('span', { text: id });
  const missedBody = h('div');
  const missed = h('section', { 'aria-labelledby': 'missed-h' }, h('h2', { id: 'missed-h', text: 'Missed and skipped ticks' }), missedBody);
  const changes = jobAudit(id);
  replace(main, h('p', { class: 'crumbs' }, h('a', { href: '#/jobs', text: 'Jobs' }), ' / ', crumb), head, info, chart, runs, missed, changes.el);
  const runRows = keyedTable('Runs by tick, newest first', RUN_COLUMNS, { id: 'runs', key: (t) => t.key, rowAttrs: tickAttrs });
  const missedRows = keyedTable('Missed and skipped ticks', MISSED_COLUMNS, { id: 'missed', key: (r) => r.id, rowAttrs: runAttrs });
  const noRuns = h('p', { class: 'muted', text: 'No run yet: runs appear here as they start.' });
  const noMissed = h('p', { class: 'muted', text: 'None among the last runs.' });
  /** Put `content` alone in `el` unless it is there already. */
  const show = (el, content) => { if (el.firstChild !== content || el.childNodes.length !== 1) replace(el, content); };
  let jobId = null;
  let actions = null;
  let deleted = false;

  // Each loader shows only the newest of its answers (they can arrive out of order).
  let latestJob = 0;
  async function loadJob() {
    const mine = ++latestJob;
    try {
      const job = await api('GET', `/jobs/${seg(id)}`);
      if (mine !== latestJob || deleted) return;
      jobId = job.id;
      if (crumb.textContent !== job.name) crumb.textContent = job.name;
      if (title.textContent !== job.name) title.textContent = job.name;
      // The buttons are made once and updated in place: a click never lands on a button
      // that a live refresh is replacing.
      if (actions) actions.update(job);
      else {
        actions = jobActions(job, { after: loadAll, onDeleted: () => { location.hash = '#/jobs'; } });
        head.append(actions.el);
      }
      patch(info, job.managed_by ? managedNote(job) : null,
        job.warning ? h('p', { class: 'warn', text: job.warning }) : null, summary(job));
    } catch (e) {
      if (mine !== latestJob) return;
      if (actions) { actions.el.remove(); actions = null; }
      patch(info, errorBox(e.status === 404 ? 'This job does not exist (any more).' : e.message));
    }
  }

  let latestRuns = 0;
  let chartKey = null;
  async function loadRuns() {
    const mine = ++latestRuns;
    try {
      const page = await api('GET', `/jobs/${seg(id)}/runs?limit=${RUN_LIMIT}`);
      if (mine !== latestRuns) return;
      const executed = page.items.filter((r) => EXECUTED.has(r.status));
      const other = page.items.filter((r) => !EXECUTED.has(r.status));
      const points = executed.filter((r) => r.status !== 'running').slice(0, CHART_RUNS).reverse()
        .map((r) => ({ id: r.id, duration_ms: r.duration_ms, lateness_ms: lateness(r) }));
      const key = JSON.stringify(points);
      if (key !== chartKey) {
        chartKey = key;
        replace(chart, h('h2', { id: 'chart-h', text: 'Last runs' }),
          points.length ? runChart(points) : h('p', { class: 'muted', text: 'No finished run yet.' }));
      }
      const ticks = groupTicks(executed);
      if (count.textContent !== String(ticks.length)) count.textContent = String(ticks.length);
      runRows.update(ticks);
      show(runsBody, executed.length ? runRows.el : noRuns);
      missedRows.update(other);
      show(missedBody, other.length ? missedRows.el : noMissed);
    } catch (e) {
      if (mine === latestRuns) replace(runsBody, errorBox(e.message));
    }
  }

  async function loadAll() { await Promise.all([loadJob(), loadRuns(), changes.load()]); }

  const reloadRuns = debounce(loadRuns, 150);
  const reloadJob = debounce(loadJob, 150);
  const reloadChanges = debounce(changes.load, 250);
  const off = subscribe((e) => {
    const d = e.data || {};
    const mine = d.job_id === jobId || d.job === id || d.job_id === id;
    if (e.kind === 'connected') { reloadJob(); reloadRuns(); reloadChanges(); }
    if ((e.kind === 'run.started' || e.kind === 'run.finished') && mine) { reloadRuns(); reloadJob(); }
    if ((e.kind === 'job.stale' || e.kind === 'job.recovered') && mine) reloadJob();
    if (e.kind === 'job.changed' && mine) {
      reloadChanges();
      if (d.change === 'deleted') {
        deleted = true;
        if (actions) { actions.el.remove(); actions = null; }
        patch(info, errorBox('This job was deleted.'));
      } else { reloadJob(); reloadRuns(); }
    }
  });
  loadAll();
  return () => { off(); reloadRuns.cancel(); reloadJob.cancel(); reloadChanges.cancel(); };
}
