// The page shell: hash routes to views, the live indicator, the token's role (read tokens
// see no action controls), the token button.

import { forgetToken, session, token, whoami } from './api.js';
import { alertError, h, replace } from './dom.js';
import * as live from './live.js';
import * as audit from './views/audit.js';
import * as cluster from './views/cluster.js';
import * as jobs from './views/jobs.js';
import * as jobDetail from './views/job_detail.js';
import * as plugins from './views/plugins.js';
import * as settings from './views/settings.js';

const routes = [
  { pattern: /^\/cluster$/, nav: 'cluster', title: 'Cluster', view: cluster },
  { pattern: /^\/jobs$/, nav: 'jobs', title: 'Jobs', view: jobs },
  { pattern: /^\/jobs\/new$/, nav: 'jobs', title: 'New job', view: jobs, params: () => ({ create: true }) },
  { pattern: /^\/jobs\/([^/]+)\/edit$/, nav: 'jobs', title: 'Edit job', view: jobs, params: (m) => ({ edit: decodeURIComponent(m[1]) }) },
  { pattern: /^\/jobs\/([^/]+)$/, nav: 'jobs', title: 'Job', view: jobDetail, params: (m) => ({ id: decodeURIComponent(m[1]) }) },
  { pattern: /^\/plugins$/, nav: 'plugins', title: 'Plugins', view: plugins },
  { pattern: /^\/audit(?:\?(.*))?$/, nav: 'audit', title: 'Audit', view: audit, params: (m) => Object.fromEntries(new URLSearchParams(m[1] || '')) },
  { pattern: /^\/settings$/, nav: 'settings', title: 'Settings', view: settings },
];

const main = document.getElementById('main');
let unmount = null;

function route() {
  const path = (location.hash || '#/cluster').slice(1);
  const found = routes.map((r) => ({ r, m: path.match(r.pattern) })).find((x) => x.m);
  if (unmount) { unmount(); unmount = null; }
  if (!found) {
    replace(main, h('h1', { text: 'Not found' }), h('p', {}, h('a', { href: '#/cluster', text: 'Back to the cluster' })));
    return;
  }
  const { r, m } = found;
  document.title = `${r.title} · wasmcron`;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  replace(main);
  unmount = r.view.mount(main, r.params ? r.params(m) : {}) || null;
}

const roleNotice = document.getElementById('role-notice');
const who = document.getElementById('who');

/** Disable the action controls under `root` for a read token (and enable them again after). */
function lock(root) {
  const ro = session.readOnly;
  for (const el of root.querySelectorAll('[data-action]')) {
    if (!('disabled' in el)) continue;
    if (ro && !el.disabled) { el.disabled = true; el.dataset.locked = 'true'; }
    if (!ro && el.dataset.locked) { el.disabled = false; delete el.dataset.locked; }
  }
}

/** Show who the token is; a read token sees every view with its action controls hidden. */
function applyRole() {
  const ro = session.readOnly;
  document.body.classList.toggle('read-only', ro);
  document.body.dataset.role = session.role || 'unknown';
  who.hidden = !session.name;
  who.textContent = session.name ? `${session.name} · ${session.role}` : '';
  who.title = session.name ? `Signed in with the API token "${session.name}" (role ${session.role})` : '';
  roleNotice.hidden = !ro;
  if (ro) {
    roleNotice.textContent = `${session.refusal ? `${session.refusal}. ` : ''}`
      + `This token${session.name ? ` ("${session.name}")` : ''} has the read role: it sees everything but cannot change anything, so actions are hidden.`;
  }
  lock(document);
}
session.listeners.add(applyRole);

// Views render action controls later too; keep them locked for a read token.
new MutationObserver(() => { if (session.readOnly) lock(main); })
  .observe(main, { childList: true, subtree: true });

const signOut = document.getElementById('sign-out');
function showSignOut() { signOut.hidden = !token(); }
signOut.addEventListener('click', () => { forgetToken(); location.reload(); });
document.addEventListener('wasmcron:token-forgotten', showSignOut);
document.addEventListener('wasmcron:token', () => {
  showSignOut();
  // A new token may have another role: ask again.
  whoami().catch(alertError);
});
showSignOut();

const indicator = document.getElementById('live');
live.onState((state) => {
  indicator.dataset.state = state;
  indicator.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' }[state];
  indicator.title = state === 'live' ? 'Receiving the cluster\'s events' : 'Event stream not connected';
});

window.addEventListener('hashchange', route);
if (!location.hash) history.replaceState(null, '', '#/cluster');
// Know the token's role before the first view draws its controls.
whoami().catch(alertError).finally(() => {
  route();
  live.start();
});
