// The page shell: hash routes to views, the live indicator, read-only mode, the token button.

import { forgetToken, session, token } from './api.js';
import { h, replace } from './dom.js';
import * as live from './live.js';
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

function applyReadOnly() {
  document.body.classList.toggle('read-only', session.readOnly);
  const banner = document.getElementById('banner');
  if (session.readOnly) {
    banner.textContent = 'This token can read but not act: changes are disabled.';
    banner.hidden = false;
  }
  for (const b of document.querySelectorAll('[data-action]')) b.disabled = true;
}
session.listeners.add(applyReadOnly);

// Views render action buttons later too; keep them disabled in read-only mode.
new MutationObserver(() => {
  if (!session.readOnly) return;
  for (const b of main.querySelectorAll('[data-action]:not([disabled])')) b.disabled = true;
}).observe(main, { childList: true, subtree: true });

const signOut = document.getElementById('sign-out');
function showSignOut() { signOut.hidden = !token(); }
signOut.addEventListener('click', () => { forgetToken(); location.reload(); });
document.addEventListener('wasmcron:token', showSignOut);
showSignOut();

const indicator = document.getElementById('live');
live.onState((state) => {
  indicator.dataset.state = state;
  indicator.textContent = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' }[state];
  indicator.title = state === 'live' ? 'Receiving the cluster\'s events' : 'Event stream not connected';
});

window.addEventListener('hashchange', route);
if (!location.hash) history.replaceState(null, '', '#/cluster');
route();
live.start();
