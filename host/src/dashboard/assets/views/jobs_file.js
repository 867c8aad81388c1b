// The jobs file panel of the Cluster view (`GET /api/v1/jobs-file`): the file this replica
// watches, whether it applies it (it leads the cluster) or only compares it, the version it
// read and the version the cluster's jobs match, in sync or what is pending, and why the
// newest version was refused. Hidden when the replica has no jobs file (404).
// Live: refreshed on the file's events and on job changes; a slow poll covers what has no
// event (a file put back to the version already applied clears its error silently).

import { api } from '../api.js';
import { debounce, h, patch } from '../dom.js';
import { digest, time } from '../format.js';
import { subscribe } from '../live.js';

/** Slow fallback refresh. */
const FALLBACK_MS = 10_000;
/** After an event, look again a little later: a replica reads a saved file on its own poll,
 * and the leader's event can arrive before this replica's copy was read. */
const FOLLOW_UP_MS = [1500, 4000];

/** "2 to create, 1 to update" of plan counts; `done` words them as made. */
function counts(c, done = false) {
  const parts = [[c.create, done ? 'created' : 'to create'], [c.update, done ? 'updated' : 'to update'],
    [c.delete, done ? 'deleted' : 'to delete']].filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`);
  return parts.length ? parts.join(', ') : (done ? 'no change' : 'nothing');
}

/** `in-sync`, `pending`, `refused` or `unchecked`. */
function stateOf(s) {
  if (s.error) return 'refused';
  if (s.in_sync === true) return 'in-sync';
  if (s.in_sync === false) return 'pending';
  return 'unchecked';
}

function stateBadge(s) {
  const state = stateOf(s);
  if (state === 'in-sync') return h('span', { class: 'badge badge-succeeded', 'data-field': 'state', text: 'in sync' });
  if (state === 'pending') {
    return [h('span', { class: 'badge badge-missed', 'data-field': 'state', text: 'pending' }), ' ',
      h('span', { 'data-field': 'pending', text: `${counts(s.pending || {})}: ${s.applier ? 'this replica applies it next' : 'the leader applies it'}` })];
  }
  if (state === 'refused') {
    return [h('span', { class: 'badge badge-failed', 'data-field': 'state', text: 'refused' }), ' ',
      h('span', { class: 'muted', text: 'the jobs stay as the last valid version made them' })];
  }
  return h('span', { class: 'badge', 'data-field': 'state', text: 'not compared yet' });
}

/** Where the refused version is wrong: line and column, entry (and its name), field. */
function errorPlace(e) {
  const parts = [];
  if (e.line) parts.push(h('span', { 'data-field': 'line', text: `line ${e.line}${e.column ? `, column ${e.column}` : ''}` }));
  if (e.entry) parts.push(h('span', { 'data-field': 'entry', text: `entry #${e.entry}${e.name ? ` (${e.name})` : ''}` }));
  if (e.field) parts.push(h('span', {}, 'field ', h('code', { 'data-field': 'error-field', text: e.field })));
  return parts.flatMap((p, i) => (i ? ['; ', p] : [p]));
}

function render(s) {
  const item = (term, ...value) => [h('dt', { text: term }), h('dd', {}, ...value)];
  const e = s.error;
  return [
    h('dl', { class: 'summary' },
      item('Path', h('code', { 'data-field': 'path', text: s.path })),
      item('This replica', h('span', { 'data-field': 'applier', 'data-applier': String(s.applier) },
        s.applier ? 'applies it (it leads the cluster)' : 'compares its copy; the leader applies it')),
      item('Read', s.read ? [digest(s.read.digest), ' ', time(s.read.at)] : 'not yet'),
      item('Applied', s.applied
        ? [digest(s.applied.digest), ' ', time(s.applied.at), ' ', h('span', { class: 'muted', text: `(${counts(s.applied.changes, true)})` })]
        : 'not yet'),
      item('State', stateBadge(s)),
      item('Checked', time(s.checked_at))),
    e ? h('div', { class: 'error-box', id: 'jobs-file-error', role: 'alert', 'data-line': e.line ?? '', 'data-entry': e.entry ?? '', 'data-error-field': e.field ?? '' },
      h('p', {}, h('strong', { text: 'Refused' }), ' ', time(e.at), e.digest ? [' (version ', digest(e.digest), ')'] : null,
        errorPlace(e).length ? [': ', errorPlace(e)] : null),
      h('pre', { 'data-field': 'message', text: e.message })) : null,
    s.warnings.length
      ? h('ul', { class: 'warnings', id: 'jobs-file-warnings' }, s.warnings.map((w) => h('li', { class: 'warn', text: w })))
      : null,
  ];
}

/** The panel as a component `{ el, unmount }`; hidden while the replica has no jobs file. */
export function jobsFilePanel() {
  const body = h('div', { id: 'jobs-file-body' });
  const el = h('section', { id: 'jobs-file', class: 'jobs-file', 'aria-labelledby': 'jobs-file-h', hidden: true },
    h('h2', { id: 'jobs-file-h', text: 'Jobs file' }),
    h('p', { class: 'muted', text: 'The jobs it declares are managed by it: they change when the file does.' }),
    body);
  let latest = 0;
  async function load() {
    const mine = ++latest;
    try {
      const s = await api('GET', '/jobs-file');
      if (mine !== latest) return;
      el.hidden = false;
      el.dataset.state = stateOf(s);
      patch(body, render(s));
    } catch (e) {
      if (mine !== latest) return;
      if (e.status === 404) {
        el.hidden = true;
        el.dataset.state = 'none';
        return;
      }
      el.hidden = false;
      el.dataset.state = 'unknown';
      patch(body, h('p', { class: 'error-box', text: `Cannot read the jobs file's status: ${e.message}` }));
    }
  }
  const reload = debounce(load, 200);
  let later = [];
  const off = subscribe((e) => {
    if (['connected', 'jobs_file.applied', 'jobs_file.refused', 'job.changed'].includes(e.kind)) reload();
    if (e.kind === 'jobs_file.applied' || e.kind === 'jobs_file.refused') {
      later.forEach(clearTimeout);
      later = FOLLOW_UP_MS.map((ms) => setTimeout(reload, ms));
    }
  });
  const timer = setInterval(load, FALLBACK_MS);
  load();
  return { el, unmount: () => { off(); clearInterval(timer); reload.cancel(); later.forEach(clearTimeout); } };
}
