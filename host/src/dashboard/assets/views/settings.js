// Settings: the cluster settings that are set (others have their defaults); set, edit and
// reset them. The API validates values and its message is shown at the field.

import { api, seg } from '../api.js';
import { actionButton, errorBox, h, replace, table, td } from '../dom.js';
import { subscribe } from '../live.js';

const KNOWN = {
  'runs.retention': 'How long run records are kept (default 7d).',
  'runs.default_timeout': 'Timeout of jobs without their own (default 60s).',
  'runs.default_memory_limit': 'Memory limit of jobs without their own (default 64MiB).',
  'scheduler.max_concurrent_runs': 'Runs at once per replica (default 256).',
  'scheduler.paused': 'Maintenance switch: true stops every tick from starting.',
  'plugins.default_allowed_hosts': 'Hosts every job may reach (list).',
  'metrics.token': 'Bearer token /metrics requires.',
};

/** The text a value is edited as: strings bare, anything else as JSON. */
function text(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parse what the viewer typed: JSON when it is JSON, else the string itself. */
function parse(raw) {
  try { return JSON.parse(raw); } catch { return raw; }
}

export function mount(main) {
  const body = h('div', { id: 'settings-body' });
  const key = h('input', { id: 'setting-key', name: 'key', type: 'text', list: 'setting-keys', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'err-key' });
  const value = h('input', { id: 'setting-value', name: 'value', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'help-value err-value' });
  const errKey = h('p', { class: 'field-error', id: 'err-key', hidden: true });
  const errValue = h('p', { class: 'field-error', id: 'err-value', hidden: true });
  const formError = h('div');
  const form = h('form', { id: 'setting-form', class: 'inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'setting-key', text: 'Key' }), key, errKey),
    h('div', { class: 'field' }, h('label', { for: 'setting-value', text: 'Value' }), value,
      h('p', { class: 'help', id: 'help-value', text: 'JSON (true, 12, ["a"]) or plain text ("7d", "config.*" strings).' }), errValue),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-action': 'set', text: 'Set' })),
    formError);
  replace(main,
    h('h1', { text: 'Settings' }),
    h('p', { class: 'muted', text: 'Cluster settings, shared by every replica. Keys not listed have their defaults.' }),
    body,
    h('h2', { text: 'Set a value' }),
    form,
    h('datalist', { id: 'setting-keys' }, Object.keys(KNOWN).map((k) => h('option', { value: k }))),
    h('h2', { text: 'API tokens' }),
    h('p', { class: 'muted', text: 'The API token is configured on the replicas (WASMCRON_API_TOKEN); this page keeps the token you entered for this tab only.' }));

  function clearErrors() {
    for (const [input, slot] of [[key, errKey], [value, errValue]]) {
      input.removeAttribute('aria-invalid');
      slot.hidden = true;
      slot.textContent = '';
    }
    replace(formError);
  }

  async function load() {
    try {
      const all = await api('GET', '/settings');
      const keys = Object.keys(all).sort();
      if (!keys.length) {
        replace(body, h('p', { class: 'empty', id: 'settings-empty', text: 'No setting is set: every default applies.' }));
        return;
      }
      replace(body, table('Settings that are set', ['Key', 'Value', 'Meaning', 'Actions'], keys.map((k) => h('tr', { 'data-setting': k },
        td('Key', h('code', { text: k })),
        td('Value', h('code', { 'data-field': 'value', text: text(all[k]) })),
        td('Meaning', KNOWN[k] || (k.startsWith('config.') ? 'Value plugins read with config-get.' : '')),
        td('Actions', h('div', { class: 'row-actions' },
          actionButton('Edit', async () => { key.value = k; value.value = text(all[k]); value.focus(); }, { ariaLabel: `Edit ${k}` }),
          actionButton('Reset', async () => { await api('DELETE', `/settings/${seg(k)}`); await load(); }, { kind: 'danger', ariaLabel: `Reset ${k} to its default` }))),
      )), { id: 'settings' }));
    } catch (e) {
      replace(body, errorBox(e.message));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const k = key.value.trim();
    if (!k) {
      key.setAttribute('aria-invalid', 'true');
      errKey.textContent = 'A key is required.';
      errKey.hidden = false;
      return;
    }
    try {
      await api('PUT', `/settings/${seg(k)}`, { value: parse(value.value.trim()) });
      value.value = '';
      await load();
    } catch (e) {
      const slot = e.field === 'value' ? errValue : e.field === 'key' ? errKey : null;
      if (slot) {
        (e.field === 'value' ? value : key).setAttribute('aria-invalid', 'true');
        slot.textContent = e.message;
        slot.hidden = false;
      } else replace(formError, errorBox(e.message));
    }
  });

  const off = subscribe((e) => { if (e.kind === 'connected') load(); });
  load();
  return () => off();
}
