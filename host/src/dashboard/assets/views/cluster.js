// Cluster: the live replicas, the jobs each owns, their heartbeats and versions.

import { api } from '../api.js';
import { debounce, errorBox, h, replace, table, td } from '../dom.js';
import { time } from '../format.js';
import { subscribe } from '../live.js';

/** Slow fallback refresh; instance events drive the view. */
const FALLBACK_MS = 10_000;

export function mount(main) {
  const summary = h('p', { class: 'muted', id: 'cluster-summary', 'aria-live': 'polite' });
  const body = h('div', { id: 'cluster-body' });
  replace(main, h('h1', { text: 'Cluster' }), summary, body);

  async function load() {
    try {
      const instances = await api('GET', '/instances');
      instances.sort((a, b) => a.id.localeCompare(b.id));
      const jobs = instances.reduce((n, i) => n + (i.jobs || 0), 0);
      summary.textContent = `${instances.length} live ${instances.length === 1 ? 'replica' : 'replicas'}, ${jobs} owned ${jobs === 1 ? 'job' : 'jobs'}`;
      const hasLeader = instances.some((i) => 'leader' in i);
      const headers = ['Replica', 'Address', 'Owned jobs', 'Last heartbeat', 'Started', 'Version'];
      if (hasLeader) headers.push('Leader');
      replace(body, table('Live replicas', headers, instances.map((i) => h('tr', { 'data-instance': i.id },
        td('Replica', h('strong', { text: i.id })),
        td('Address', h('code', { text: i.address || '—' })),
        td('Owned jobs', h('span', { class: 'num', 'data-field': 'jobs', text: i.jobs })),
        td('Last heartbeat', time(i.last_heartbeat, { relative: true })),
        td('Started', time(i.started_at)),
        td('Version', i.version),
        hasLeader ? td('Leader', i.leader ? h('span', { class: 'badge badge-leader', text: 'leader' }) : '') : null,
      )), { id: 'instances' }));
    } catch (e) {
      replace(body, errorBox(e.message));
    }
  }

  const reload = debounce(load, 150);
  const off = subscribe((e) => {
    if (['connected', 'instance.joined', 'instance.left', 'job.changed'].includes(e.kind)) reload();
  });
  const timer = setInterval(load, FALLBACK_MS);
  load();
  return () => { off(); clearInterval(timer); reload.cancel(); };
}
