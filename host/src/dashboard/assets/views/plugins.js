// Plugins: every component this replica has loaded (or failed to load), live.

import { api } from '../api.js';
import { debounce, errorBox, h, replace, table, td } from '../dom.js';
import { bytes, time } from '../format.js';
import { subscribe } from '../live.js';

export function mount(main) {
  const summary = h('p', { class: 'muted', id: 'plugins-summary' });
  const body = h('div', { id: 'plugins-body' });
  replace(main, h('h1', { text: 'Plugins' }), summary, body);

  async function load() {
    try {
      const plugins = await api('GET', '/plugins');
      plugins.sort((a, b) => a.name.localeCompare(b.name));
      const failed = plugins.filter((p) => p.error).length;
      summary.textContent = `${plugins.length} ${plugins.length === 1 ? 'plugin' : 'plugins'} in this replica's plugins directory${failed ? `, ${failed} failed to load` : ''}`;
      if (!plugins.length) {
        replace(body, h('p', { class: 'empty', text: 'No plugin: put *.wasm components in the plugins directory.' }));
        return;
      }
      replace(body, table('Plugins', ['Name', 'Digest', 'Size', 'Loaded at', 'Load error'], plugins.map((p) => h('tr', { 'data-plugin': p.name, class: p.error ? 'failed' : '' },
        td('Name', h('strong', { text: p.name })),
        td('Digest', p.digest ? h('code', { title: p.digest, text: `${p.digest.replace(/^sha256:/, '').slice(0, 12)}…` }) : '—'),
        td('Size', bytes(p.size)),
        td('Loaded at', time(p.loaded_at)),
        td('Load error', p.error ? h('span', { class: 'error-text', text: p.error }) : '—'),
      )), { id: 'plugins' }));
    } catch (e) {
      replace(body, errorBox(e.message));
    }
  }
  const reload = debounce(load, 150);
  const off = subscribe((e) => {
    if (['connected', 'plugin.loaded', 'plugin.failed'].includes(e.kind)) reload();
  });
  load();
  return () => { off(); reload.cancel(); };
}
