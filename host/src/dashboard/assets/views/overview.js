// The on-call overview that opens the Cluster view (`GET /api/v1/overview`, computed by the
// database on its clock): runs per minute by status over the last hour, fire lateness p50 and
// p99, the failing, paused-by-failure and stale jobs, and the alert deliveries that fail.
// Live: refreshed on the cluster's events, and by a slow poll for what has no event (time
// passing makes a job stale, an alert's retry fails).

import { api, seg } from '../api.js';
import { debounce, errorBox, h, patch, svg } from '../dom.js';
import { duration, short, time } from '../format.js';
import { subscribe } from '../live.js';

/** Slow fallback refresh. */
const FALLBACK_MS = 10_000;
/** The statuses of the chart, bottom to top. */
const STATUSES = ['succeeded', 'failed', 'timed_out', 'running', 'skipped', 'missed'];
const W = 640;
const H = 150;
const PAD = { left: 40, right: 8, top: 8, bottom: 22 };

/** Stacked bars of the runs of each minute, with a total per status for readers and tests. */
function minutesChart(minutes) {
  const totals = Object.fromEntries(STATUSES.map((s) => [s, minutes.reduce((n, m) => n + m[s], 0)]));
  const all = STATUSES.reduce((n, s) => n + totals[s], 0);
  const max = Math.max(1, ...minutes.map((m) => STATUSES.reduce((n, s) => n + m[s], 0)));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, minutes.length);
  const y = (v) => PAD.top + ((max - v) * (H - PAD.top - PAD.bottom)) / max;
  const bars = minutes.map((m, i) => {
    let base = 0;
    const x = PAD.left + i * slot;
    const parts = STATUSES.filter((s) => m[s] > 0).map((s) => {
      const top = y(base + m[s]);
      const rect = svg('rect', { class: `bar bar-${s}`, x: (x + 1).toFixed(1), width: Math.max(1, slot - 2).toFixed(1), y: top.toFixed(1), height: (y(base) - top).toFixed(1) });
      base += m[s];
      return rect;
    });
    const label = `${time(m.start).textContent}: ${STATUSES.filter((s) => m[s] > 0).map((s) => `${m[s]} ${s}`).join(', ') || 'no runs'}`;
    return svg('g', {}, svg('title', {}, label), parts);
  });
  const text = all
    ? `${all} runs in the last hour: ${STATUSES.filter((s) => totals[s]).map((s) => `${totals[s]} ${s.replace('_', ' ')}`).join(', ')}.`
    : 'No runs in the last hour.';
  const attrs = Object.fromEntries(STATUSES.map((s) => [`data-${s.replace('_', '-')}`, totals[s]]));
  return h('figure', { class: 'chart', id: 'overview-chart', 'data-total': all, ...attrs },
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': text, preserveAspectRatio: 'xMidYMid meet' },
      [max, 0].map((t) => svg('g', { class: 'grid' },
        svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t) }),
        svg('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, String(t)))),
      svg('text', { class: 'axis', x: PAD.left, y: H - 6 }, '60 min ago'),
      svg('text', { class: 'axis', x: W - PAD.right, y: H - 6, 'text-anchor': 'end' }, 'now'),
      bars),
    h('figcaption', {},
      STATUSES.map((s) => h('span', { class: `key key-${s}`, text: s.replace('_', ' ') })),
      h('span', { class: 'sr-only', text })),
    h('p', { class: 'muted', id: 'overview-totals', text }));
}

/** A titled list of jobs; `fact(item)` says what is wrong with each. */
function jobList(id, title, items, fact, none) {
  return h('section', { class: 'attention', id, 'data-count': items.length, 'aria-labelledby': `${id}-h` },
    h('h3', { id: `${id}-h` }, title, ' ', h('span', { class: 'count', text: String(items.length) })),
    items.length
      ? h('ul', {}, items.map((j) => h('li', { 'data-job': j.name },
        h('a', { href: `#/jobs/${seg(j.id)}`, text: j.name }), ' ', fact(j))))
      : h('p', { class: 'muted', text: none }));
}

function render(o) {
  const alerts = o.alerts;
  const failingAlerts = alerts.retrying + alerts.given_up;
  return [
    h('div', { class: 'overview-grid' },
      h('section', { 'aria-labelledby': 'overview-runs-h', class: 'overview-runs' },
        h('h3', { id: 'overview-runs-h', text: 'Runs per minute, last hour' }),
        minutesChart(o.minutes)),
      h('section', { 'aria-labelledby': 'overview-lateness-h' },
        h('h3', { id: 'overview-lateness-h', text: 'Fire lateness, last hour' }),
        h('dl', { class: 'figures', id: 'overview-lateness', 'data-samples': o.lateness.samples },
          h('dt', { text: 'p50' }), h('dd', { class: 'num', 'data-field': 'p50', text: duration(o.lateness.p50_ms) }),
          h('dt', { text: 'p99' }), h('dd', { class: 'num', 'data-field': 'p99', text: duration(o.lateness.p99_ms) }),
          h('dt', { text: 'ticks' }), h('dd', { class: 'num', text: String(o.lateness.samples) }))),
      h('section', { 'aria-labelledby': 'overview-alerts-h', id: 'overview-alerts', 'data-count': failingAlerts },
        h('h3', { id: 'overview-alerts-h', text: 'Alert deliveries failing' }),
        h('p', {}, h('strong', { class: failingAlerts ? 'error-text' : '', 'data-field': 'failing', text: String(failingAlerts) }),
          ` (${alerts.retrying} retrying, ${alerts.given_up} given up)`),
        alerts.latest_error
          ? h('p', { class: 'error-text', 'data-field': 'latest-error', title: alerts.latest_error }, `${alerts.latest_error_host}: ${short(alerts.latest_error)}`)
          : null)),
    h('div', { class: 'overview-grid' },
      jobList('overview-failing', 'Failing jobs', o.failing_jobs,
        (j) => [h('span', { class: `badge badge-${j.status}`, text: j.status }), ` attempt ${j.attempt} of the tick `, time(j.scheduled_at),
          j.error ? h('span', { class: 'error-text', title: j.error, text: `: ${short(j.error)}` }) : null],
        'None: every job\'s last tick ended well.'),
      jobList('overview-paused', 'Paused after failures', o.paused_jobs,
        (j) => h('span', { class: 'muted', text: `after ${j.pause_after_failures ?? '?'} failed ${j.pause_after_failures === 1 ? 'tick' : 'ticks'}` }),
        'None.'),
      jobList('overview-stale', 'Stale jobs', o.stale_jobs,
        (j) => h('span', { class: 'muted' }, `no success for ${j.stale_after}; `,
          j.last_success_at ? ['last ', time(j.last_success_at)] : 'never succeeded'),
        'None.')),
  ];
}

/** The overview as a component `{ el, unmount }`, refreshing itself while mounted. */
export function overview() {
  const body = h('div', { id: 'overview-body' }, h('p', { class: 'muted', text: 'Loading…' }));
  const el = h('section', { id: 'overview', 'aria-labelledby': 'overview-h' },
    h('h2', { id: 'overview-h', text: 'On call' }), body);
  let latest = 0;
  async function load() {
    const mine = ++latest;
    try {
      const o = await api('GET', '/overview');
      if (mine !== latest) return;
      patch(body, render(o));
      body.dataset.now = o.now;
    } catch (e) {
      if (mine === latest) patch(body, errorBox(e.message));
    }
  }
  const reload = debounce(load, 300);
  const off = subscribe((e) => {
    if (['connected', 'run.started', 'run.finished', 'job.changed', 'job.stale', 'job.recovered'].includes(e.kind)) reload();
  });
  const timer = setInterval(load, FALLBACK_MS);
  load();
  return { el, unmount: () => { off(); clearInterval(timer); reload.cancel(); } };
}
