// Audit: who changed what and when (`GET /api/v1/audit`), newest first: the time, the actor
// (a token's name, bootstrap, anonymous, system or jobs-file), the action, its target, and
// the changed fields before → after. Filters by job and actor (kept in the address, so a
// filtered view can be linked to), "Load more" follows the `next` cursor. New entries appear
// live. The job detail shows a job's recent entries with the same table (`auditTable`).

import { api, seg } from '../api.js';
import { debounce, errorBox, h, keyedTable, replace } from '../dom.js';
import { short, time } from '../format.js';
import { subscribe } from '../live.js';

const PAGE = 50;
/** Changes of more fields than this are folded (a creation or deletion lists them all). */
const INLINE_FIELDS = 4;
/** The actors the host itself names (a token's name is any other). */
const RESERVED_ACTORS = ['bootstrap', 'anonymous', 'system', 'jobs-file'];
/** The events after which the log may have grown. */
const CHANGES = ['connected', 'job.changed', 'setting.changed', 'token.changed'];

/** A field's value, compact: strings bare, anything else as JSON. */
function valueText(v) {
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v === undefined ? null : v);
}

/** The changed fields of an entry: `field: before → after`; only the side there is when the
 * other is null (a creation, a trigger; a deletion, a reset). */
function changes(entry) {
  const { before, after } = entry;
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(before) && !isObj(after)) {
    if (before === null && after === null) return '—';
    return h('span', { class: 'mono' }, before !== null ? [short(valueText(before), 80), ' → '] : null, short(valueText(after), 80));
  }
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  if (!keys.length) return '—';
  const items = keys.map((k) => {
    const was = isObj(before) ? valueText(before[k]) : null;
    const is = isObj(after) ? valueText(after[k]) : null;
    return h('li', { 'data-key': k }, h('code', { class: 'key-name', text: k }), ': ',
      was !== null && is !== null
        ? [h('span', { class: 'before', title: was, text: short(was, 60) }), ' → ', h('span', { class: 'after', title: is, text: short(is, 60) })]
        : (is !== null
          ? h('span', { class: 'after', title: is, text: short(is, 60) })
          : h('span', { class: 'before removed', title: was, text: short(was, 60) })));
  });
  const list = h('ul', { class: 'changes' }, items);
  if (keys.length <= INLINE_FIELDS) return list;
  return h('details', {}, h('summary', { text: `${keys.length} fields` }), list);
}

/** What an entry is about: the job (a link), the setting or the token. */
function target(entry) {
  if (entry.job) return h('a', { href: `#/jobs/${seg(entry.job.id)}`, 'data-field': 'target', text: entry.job.name });
  const kind = entry.action.split('.')[0];
  return [kind === 'job' ? '' : `${kind} `, h('code', { 'data-field': 'target', text: entry.target })];
}

/** A table of audit entries, updated in place; without the Target column for one job's. */
export function auditTable(caption, id, { withTarget = true } = {}) {
  const columns = [
    { label: 'Time', cell: (e) => time(e.at) },
    { label: 'Actor', cell: (e) => h('strong', { 'data-field': 'actor', text: e.actor }) },
    { label: 'Action', cell: (e) => h('span', { class: 'tag', 'data-field': 'action', text: e.action }) },
    withTarget ? { label: 'Target', cell: target } : null,
    { label: 'Changes', cell: changes },
  ].filter(Boolean);
  return keyedTable(caption, columns, {
    id,
    key: (e) => e.id,
    rowAttrs: (e) => ({ 'data-audit': e.id, 'data-audit-action': e.action, 'data-actor': e.actor }),
  });
}

/** The query of a page of entries. */
function query({ job, actor, before, limit = PAGE }) {
  const q = new URLSearchParams();
  if (job) q.set('job', job);
  if (actor) q.set('actor', actor);
  q.set('limit', String(limit));
  if (before) q.set('before', before);
  return `/audit?${q}`;
}

/** A job's recent entries, for its detail page: `{ el, load() }`. */
export function jobAudit(jobId, limit = 10) {
  const rows = auditTable('Recent changes of this job, newest first', 'job-audit', { withTarget: false });
  const body = h('div');
  const none = h('p', { class: 'muted', text: 'No change recorded.' });
  const all = h('a', { id: 'job-audit-all', href: `#/audit?job=${seg(jobId)}`, text: 'All changes of this job' });
  const el = h('section', { 'aria-labelledby': 'job-audit-h' },
    h('div', { class: 'title-row' }, h('h2', { id: 'job-audit-h', text: 'Recent changes' }), all), body);
  let latest = 0;
  async function load() {
    const mine = ++latest;
    try {
      const page = await api('GET', query({ job: jobId, limit }));
      if (mine !== latest) return;
      rows.update(page.items);
      const content = page.items.length ? rows.el : none;
      if (body.firstChild !== content || body.childNodes.length !== 1) replace(body, content);
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }
  return { el, load };
}

export function mount(main, params) {
  const filters = { job: params.job || '', actor: params.actor || '' };
  const jobInput = h('input', { type: 'search', id: 'audit-job', name: 'job', value: filters.job, placeholder: 'id or name', autocomplete: 'off', spellcheck: 'false' });
  const actorInput = h('input', { type: 'search', id: 'audit-actor', name: 'actor', value: filters.actor, list: 'audit-actors', placeholder: 'token name, system, jobs-file…', autocomplete: 'off', spellcheck: 'false' });
  const actors = h('datalist', { id: 'audit-actors' });
  const form = h('form', { class: 'toolbar filters', id: 'audit-filters', role: 'search', 'aria-label': 'Filter the audit log' },
    h('label', { for: 'audit-job', text: 'Job' }), jobInput,
    h('label', { for: 'audit-actor', text: 'Actor' }), actorInput, actors,
    h('button', { type: 'submit', text: 'Filter' }),
    h('button', { type: 'button', id: 'audit-clear', text: 'Clear' }));
  const summary = h('p', { class: 'muted', id: 'audit-summary', 'aria-live': 'polite' });
  const body = h('div', { id: 'audit-body' });
  const more = h('button', { type: 'button', id: 'audit-more', hidden: true, text: 'Load more' });
  replace(main, h('h1', { text: 'Audit' }),
    h('p', { class: 'muted', text: 'Every change to a job, a setting or an API token: who made it, when, and the fields before → after. Newest first.' }),
    form, summary, body, h('div', { class: 'actions more' }, more));

  const rows = auditTable('Audit log, newest first', 'audit');
  const empty = h('p', { class: 'empty' });
  /** Show `content` alone in the body unless it is there already. */
  const show = (content) => { if (body.firstChild !== content || body.childNodes.length !== 1) replace(body, content); };
  const entries = new Map();
  let next = null;
  // The entries shown are of older filters (they are dropped when the next page arrives);
  // `generation` counts the filter changes, so an older page is not added to newer ones.
  let stale = true;
  let generation = 0;
  let latest = 0;

  function render() {
    const items = [...entries.values()].sort((a, b) => b.id - a.id);
    const seen = new Set([...RESERVED_ACTORS, ...items.map((e) => e.actor)]);
    if (actors.childElementCount !== seen.size) replace(actors, [...seen].sort().map((a) => h('option', { value: a })));
    const by = [filters.job ? `job ${filters.job}` : null, filters.actor ? `actor ${filters.actor}` : null].filter(Boolean).join(', ');
    const text = `${items.length} ${items.length === 1 ? 'entry' : 'entries'}${by ? ` of ${by}` : ''}${next ? '; older ones below "Load more"' : ''}`;
    if (summary.textContent !== text) summary.textContent = text;
    more.hidden = !next;
    rows.update(items);
    if (items.length) show(rows.el);
    else {
      empty.textContent = by ? 'No entry matches.' : 'No change recorded yet.';
      show(empty);
    }
  }

  /** Load the newest page and merge it in. */
  async function loadFirst() {
    const mine = ++latest;
    try {
      const page = await api('GET', query(filters));
      if (mine !== latest) return;
      const newest = entries.size ? Math.max(...entries.keys()) : null;
      // More new entries than a page: the shown ones are no longer adjacent; start over.
      const gap = page.next && newest !== null && page.items.every((e) => e.id > newest);
      if (stale || gap || !entries.size) {
        entries.clear();
        next = page.next;
        stale = false;
      }
      for (const e of page.items) entries.set(e.id, e);
      render();
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }

  more.addEventListener('click', async () => {
    if (!next || stale || more.disabled) return;
    more.disabled = true;
    const mine = generation;
    try {
      const page = await api('GET', query({ ...filters, before: next }));
      if (mine !== generation || stale) return;
      for (const e of page.items) entries.set(e.id, e);
      next = page.next;
      render();
    } catch (e) {
      replace(body, errorBox(e.message));
    } finally {
      more.disabled = false;
    }
  });

  function apply() {
    const job = jobInput.value.trim();
    const actor = actorInput.value.trim();
    if (job === filters.job && actor === filters.actor) return;
    Object.assign(filters, { job, actor });
    const q = new URLSearchParams();
    if (job) q.set('job', job);
    if (actor) q.set('actor', actor);
    // The address names the filters (a link to them); no hashchange, so no remount.
    history.replaceState(null, '', `#/audit${q.toString() ? `?${q}` : ''}`);
    stale = true;
    generation += 1;
    loadFirst();
  }
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  jobInput.addEventListener('change', apply);
  actorInput.addEventListener('change', apply);
  form.querySelector('#audit-clear').addEventListener('click', () => {
    jobInput.value = '';
    actorInput.value = '';
    apply();
  });

  const reload = debounce(loadFirst, 250);
  const off = subscribe((e) => { if (CHANGES.includes(e.kind)) reload(); });
  loadFirst();
  return () => { off(); reload.cancel(); };
}
