// Cluster: the on-call overview first (views/overview.js), the jobs file when the replica
// watches one (views/jobs_file.js), then the live replicas, the jobs each owns, their
// heartbeats and versions.

import { api } from '../api.js';
import { debounce, errorBox, h, keyedTable, replace } from '../dom.js';
import { time } from '../format.js';
import { subscribe } from '../live.js';
import { jobsFilePanel } from './jobs_file.js';
import { overview } from './overview.js';

/** Slow fallback refresh; instance events drive the view. */
const FALLBACK_MS = 10_000;

export function mount(main) {
  const summary = h('p', { class: 'muted', id: 'cluster-summary', 'aria-live': 'polite' });
  const body = h('div', { id: 'cluster-body' });
  const onCall = overview();
  const file = jobsFilePanel();
  replace(main, h('h1', { text: 'Cluster' }), onCall.el, file.el,
    h('h2', { id: 'replicas-h', text: 'Replicas' }), summary, body);

  const columns = [
    { label: 'Replica', cell: (i) => h('strong', { text: i.id }) },
    { label: 'Address', cell: (i) => h('code', { text: i.address || '—' }) },
    { label: 'Owned jobs', cell: (i) => h('span', { class: 'num', 'data-field': 'jobs', text: i.jobs }) },
    { label: 'Last heartbeat', cell: (i) => time(i.last_heartbeat, { relative: true }) },
    { label: 'Started', cell: (i) => time(i.started_at) },
    { label: 'Version', cell: (i) => i.version },
  ];
  const leader = { label: 'Leader', cell: (i) => (i.leader ? h('span', { class: 'badge badge-leader', text: 'leader' }) : '') };
  // Rows are updated in place; the table is made again only if the Leader column comes or goes.
  let rows = null;
  let withLeader = null;
  let latest = 0;

  async function load() {
    const mine = ++latest;
    try {
      const instances = await api('GET', '/instances');
      if (mine !== latest) return;
      instances.sort((a, b) => a.id.localeCompare(b.id));
      const jobs = instances.reduce((n, i) => n + (i.jobs || 0), 0);
      const text = `${instances.length} live ${instances.length === 1 ? 'replica' : 'replicas'}, ${jobs} owned ${jobs === 1 ? 'job' : 'jobs'}`;
      if (summary.textContent !== text) summary.textContent = text;
      const hasLeader = instances.some((i) => 'leader' in i);
      if (!rows || hasLeader !== withLeader) {
        withLeader = hasLeader;
        rows = keyedTable('Live replicas', hasLeader ? [...columns, leader] : columns, {
          id: 'instances', key: (i) => i.id, rowAttrs: (i) => ({ 'data-instance': i.id }),
        });
      }
      rows.update(instances);
      if (body.firstChild !== rows.el || body.childNodes.length !== 1) replace(body, rows.el);
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }

  const reload = debounce(load, 150);
  const off = subscribe((e) => {
    if (['connected', 'instance.joined', 'instance.left', 'job.changed'].includes(e.kind)) reload();
  });
  const timer = setInterval(load, FALLBACK_MS);
  load();
  return () => { off(); clearInterval(timer); reload.cancel(); onCall.unmount(); file.unmount(); };
}
