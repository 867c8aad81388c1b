// Plugins: every component this replica has loaded (or failed to load), live.

import { api } from '../api.js';
import { debounce, errorBox, h, keyedTable, replace } from '../dom.js';
import { bytes, time } from '../format.js';
import { subscribe } from '../live.js';

export function mount(main) {
  const summary = h('p', { class: 'muted', id: 'plugins-summary' });
  const body = h('div', { id: 'plugins-body' });
  replace(main, h('h1', { text: 'Plugins' }), summary, body);

  const rows = keyedTable('Plugins', [
    { label: 'Name', cell: (p) => h('strong', { text: p.name }) },
    { label: 'Digest', cell: (p) => (p.digest ? h('code', { title: p.digest, text: `${p.digest.replace(/^sha256:/, '').slice(0, 12)}…` }) : '—') },
    { label: 'Size', cell: (p) => bytes(p.size) },
    { label: 'Loaded at', cell: (p) => time(p.loaded_at) },
    { label: 'Load error', cell: (p) => (p.error ? h('span', { class: 'error-text', text: p.error }) : '—') },
  ], { id: 'plugins', key: (p) => p.name, rowAttrs: (p) => ({ 'data-plugin': p.name, class: p.error ? 'failed' : null }) });
  const empty = h('p', { class: 'empty', text: 'No plugin: put *.wasm components in the plugins directory.' });
  let latest = 0;

  async function load() {
    const mine = ++latest;
    try {
      const plugins = await api('GET', '/plugins');
      if (mine !== latest) return;
      plugins.sort((a, b) => a.name.localeCompare(b.name));
      const failed = plugins.filter((p) => p.error).length;
      summary.textContent = `${plugins.length} ${plugins.length === 1 ? 'plugin' : 'plugins'} in this replica's plugins directory${failed ? `, ${failed} failed to load` : ''}`;
      const content = plugins.length ? rows.el : empty;
      rows.update(plugins);
      if (body.firstChild !== content || body.childNodes.length !== 1) replace(body, content);
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }
  const reload = debounce(load, 150);
  const off = subscribe((e) => {
    if (['connected', 'plugin.loaded', 'plugin.failed'].includes(e.kind)) reload();
  });
  load();
  return () => { off(); reload.cancel(); };
}
