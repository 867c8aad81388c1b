// Settings: the cluster settings that are set (others have their defaults); set, edit and
// reset them. The API validates values and its message is shown at the field. For an admin
// token, the API tokens too: list, create (the secret is shown once) and revoke.

import { api, seg, session } from '../api.js';
import { actionButton, alertError, debounce, errorBox, h, keyedTable, replace } from '../dom.js';
import { time } from '../format.js';
import { subscribe } from '../live.js';

const KNOWN = {
  'runs.retention': 'How long run records are kept (default 7d).',
  'runs.keep_succeeded': 'Succeeded runs kept per job, the newest (default: no limit).',
  'runs.keep_failed': 'Failed and timed-out runs kept per job, the newest (default: no limit).',
  'runs.default_timeout': 'Timeout of jobs without their own (default 60s).',
  'runs.default_memory_limit': 'Memory limit of jobs without their own (default 64MiB).',
  'scheduler.max_concurrent_runs': 'Runs at once per replica (default 256).',
  'scheduler.paused': 'Maintenance switch: true stops every tick from starting.',
  'plugins.default_allowed_hosts': 'Hosts every job may reach (list).',
  'metrics.token': 'Bearer token /metrics requires.',
  'alerts.webhooks': 'Where alerts go: [{"url": "https://…", "events": [...], "format": "json" | "slack", "headers": {...}}].',
};

/** The text a value is edited as: strings bare, anything else as JSON. */
function text(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parse what the viewer typed: JSON when it is JSON, else the string itself. */
function parse(raw) {
  try { return JSON.parse(raw); } catch { return raw; }
}

/**
 * A labelled form field with its help (`#help-<slot>`) and error slot (`#err-<slot>`); `slot`
 * defaults to the input's id.
 */
function field(id, label, input, help, slot = id) {
  input.dataset.errorSlot = `err-${slot}`;
  input.setAttribute('aria-describedby', [help ? `help-${slot}` : null, `err-${slot}`].filter(Boolean).join(' '));
  return h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    input,
    help ? h('p', { class: 'help', id: `help-${slot}`, text: help }) : null,
    h('p', { class: 'field-error', id: `err-${slot}`, hidden: true }));
}

/** Clear the field errors under `form` (and its form-level error box `box`). */
function clearErrors(form, box) {
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  replace(box);
}

/** Show `message` at `input` (a field of `form`), or in `box` when there is no input. */
function showError(form, box, input, message) {
  const slot = input && form.querySelector(`#${input.dataset.errorSlot}`);
  if (!slot) {
    replace(box, errorBox(message));
    return;
  }
  input.setAttribute('aria-invalid', 'true');
  slot.textContent = message;
  slot.hidden = false;
  input.focus();
}

export function mount(main) {
  const body = h('div', { id: 'settings-body' });
  const key = h('input', { id: 'setting-key', name: 'key', type: 'text', list: 'setting-keys', required: true, autocomplete: 'off', spellcheck: 'false' });
  const value = h('input', { id: 'setting-value', name: 'value', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false' });
  const formError = h('div');
  const form = h('form', { id: 'setting-form', class: 'inline-form', novalidate: true },
    field('setting-key', 'Key', key, null, 'key'),
    field('setting-value', 'Value', value, 'JSON (true, 12, ["a"]) or plain text ("7d", "config.*" strings).', 'value'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-action': 'set', text: 'Set' })),
    formError);

  const tokens = tokenSection();
  replace(main,
    h('h1', { text: 'Settings' }),
    h('p', { class: 'muted', text: 'Cluster settings, shared by every replica. Keys not listed have their defaults.' }),
    body,
    h('div', { class: 'admin-only' },
      h('h2', { text: 'Set a value' }),
      form),
    h('datalist', { id: 'setting-keys' }, Object.keys(KNOWN).map((k) => h('option', { value: k }))),
    tokens.el);

  /** Edit and Reset of one setting, made once per row and kept across refreshes. */
  function settingActions([k0, v0]) {
    let current = [k0, v0];
    const edit = actionButton('Edit', async () => { key.value = current[0]; value.value = text(current[1]); value.focus(); }, { ariaLabel: `Edit ${k0}` });
    const reset = actionButton('Reset', async () => { await api('DELETE', `/settings/${seg(current[0])}`); await load(); },
      { kind: 'danger', ariaLabel: `Reset ${k0} to its default` });
    return { el: h('div', { class: 'row-actions' }, edit, reset), update(item) { current = item; } };
  }
  const rows = keyedTable('Settings that are set', [
    { label: 'Key', cell: ([k]) => h('code', { text: k }) },
    { label: 'Value', cell: ([, v]) => h('code', { 'data-field': 'value', text: text(v) }) },
    { label: 'Meaning', cell: ([k]) => KNOWN[k] || (k.startsWith('config.') ? 'Value plugins read with config-get.' : '') },
    { label: 'Actions', class: 'admin-only', mount: settingActions },
  ], { id: 'settings', key: ([k]) => k, rowAttrs: ([k]) => ({ 'data-setting': k }) });
  const empty = h('p', { class: 'empty', id: 'settings-empty', text: 'No setting is set: every default applies.' });

  let latest = 0;
  async function load() {
    const mine = ++latest;
    try {
      const all = await api('GET', '/settings');
      if (mine !== latest) return;
      const items = Object.keys(all).sort().map((k) => [k, all[k]]);
      rows.update(items);
      const content = items.length ? rows.el : empty;
      if (body.firstChild !== content || body.childNodes.length !== 1) replace(body, content);
    } catch (e) {
      if (mine === latest) replace(body, errorBox(e.message));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, formError);
    const k = key.value.trim();
    if (!k) {
      showError(form, formError, key, 'A key is required.');
      return;
    }
    try {
      await api('PUT', `/settings/${seg(k)}`, { value: parse(value.value.trim()) });
      value.value = '';
      await load();
    } catch (e) {
      showError(form, formError, e.field === 'value' ? value : e.field === 'key' ? key : null, e.message);
    }
  });

  // Live: a setting or token changed on any replica (or the stream reconnected) reloads.
  const reload = debounce(load, 150);
  const reloadTokens = debounce(() => tokens.load(), 150);
  const off = subscribe((e) => {
    if (e.kind === 'connected' || e.kind === 'setting.changed') reload();
    if (e.kind === 'connected' || e.kind === 'token.changed') reloadTokens();
  });
  load();
  tokens.load();
  return () => { off(); reload.cancel(); reloadTokens.cancel(); tokens.unmount(); };
}

/**
 * The "API tokens" section: for an admin token, the named tokens (name, role, created, by
 * whom, last used) with Revoke, and a form that creates one and shows its secret once. A read
 * token is told it cannot manage tokens; an open API is told how tokens are switched on.
 */
function tokenSection() {
  const note = h('p', { class: 'muted', id: 'tokens-note' });
  const list = h('div', { id: 'tokens-body' });
  const secret = h('div', { id: 'token-secret', class: 'secret', role: 'status', hidden: true });
  const name = h('input', { id: 'new-token-name', name: 'name', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
  const role = h('select', { id: 'new-token-role', name: 'role' },
    h('option', { value: 'read', text: 'read' }), h('option', { value: 'admin', text: 'admin' }));
  const formError = h('div', { id: 'new-token-error' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'create-token', text: 'Create token' });
  const form = h('form', { id: 'new-token-form', class: 'inline-form', novalidate: true },
    field('new-token-name', 'Name', name, '1 to 64 letters, digits, ".", "_" or "-".'),
    field('new-token-role', 'Role', role, 'read: sees everything, changes nothing. admin: everything, tokens too.'),
    h('div', { class: 'actions' }, submit),
    formError);
  const manage = h('div', { class: 'admin-only', id: 'tokens-admin' },
    list, secret, h('h3', { text: 'Create a token' }), form);
  const el = h('section', { 'aria-labelledby': 'tokens-h', id: 'tokens-section' },
    h('h2', { id: 'tokens-h', text: 'API tokens' }),
    note,
    h('p', { class: 'read-only-note muted', text: 'Managing API tokens needs an admin token: this one can only read.' }),
    manage);

  const rows = keyedTable('API tokens', [
    { label: 'Name', cell: (t) => [h('code', { text: t.name }), session.name === t.name ? [' ', h('span', { class: 'tag', text: 'this page' })] : null] },
    { label: 'Role', cell: (t) => h('span', { class: `state state-role-${t.role}`, 'data-field': 'role', text: t.role }) },
    { label: 'Created', cell: (t) => time(t.created_at) },
    { label: 'Created by', cell: (t) => t.created_by || '—' },
    { label: 'Last used', cell: (t) => (t.last_used_at ? time(t.last_used_at, { relative: true }) : 'never') },
    { label: 'Actions', class: 'admin-only', mount: (t) => {
      let current = t;
      const revoke = actionButton('Revoke', async () => {
        const self = session.name === current.name ? ' This page uses it: it will ask for another token.' : '';
        if (!window.confirm(`Revoke the token "${current.name}"? Every client using it is refused from now on.${self}`)) return;
        try {
          await api('DELETE', `/tokens/${seg(current.name)}`);
        } catch (e) {
          if (e.status !== 404) throw e;
        }
        await load();
      }, { kind: 'danger', ariaLabel: `Revoke ${t.name}` });
      return { el: h('div', { class: 'row-actions' }, revoke), update(next) { current = next; } };
    } },
  ], { id: 'tokens', key: (t) => t.name, rowAttrs: (t) => ({ 'data-token': t.name, 'data-role': t.role }) });
  const empty = h('p', { class: 'empty', id: 'tokens-empty', text: 'No named token yet: only the bootstrap token (WASMCRON_API_TOKEN) is accepted.' });

  /** What the section shows for the session's role: true when tokens can be managed. */
  function manageable() {
    if (!session.authRequired && session.role !== 'read') {
      note.textContent = 'This API is open: start the replicas with WASMCRON_API_TOKEN (the bootstrap admin token) '
        + 'to require tokens; named tokens can then be created here.';
      manage.hidden = true;
      return false;
    }
    note.textContent = 'Bearer tokens for the API and this page. A read token sees everything and changes nothing; '
      + 'an admin token can do everything, manage tokens too. This page keeps the token you entered for this tab only.';
    manage.hidden = false;
    return session.role === 'admin';
  }

  let latest = 0;
  async function load() {
    if (!manageable()) return;
    const mine = ++latest;
    try {
      const answer = await api('GET', '/tokens');
      if (mine !== latest) return;
      rows.update(answer.tokens);
      const content = answer.tokens.length ? rows.el : empty;
      if (list.firstChild !== content || list.childNodes.length !== 1) replace(list, content);
    } catch (e) {
      if (mine === latest && e.status !== 403) replace(list, errorBox(e.message));
    }
  }

  function forget() {
    replace(secret);
    secret.hidden = true;
  }

  /** Show the secret of a token just made: once, with a copy button and a warning. */
  function reveal(made) {
    const valueEl = h('input', { id: 'token-secret-value', type: 'text', readonly: true, value: made.token, 'aria-label': `Secret of the token ${made.name}`, spellcheck: 'false', autocomplete: 'off' });
    const copied = h('span', { class: 'muted', id: 'token-copied', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', id: 'token-copy', text: 'Copy' });
    copy.addEventListener('click', async () => {
      valueEl.select();
      try {
        await navigator.clipboard.writeText(made.token);
        copied.textContent = 'Copied.';
      } catch {
        // No clipboard API (a page not served over HTTPS or loopback): the legacy command.
        copied.textContent = document.execCommand('copy') ? 'Copied.' : 'Select the token and copy it.';
      }
    });
    const done = h('button', { type: 'button', id: 'token-secret-done', text: 'Done, hide it' });
    done.addEventListener('click', forget);
    replace(secret,
      h('p', {}, 'Token ', h('code', { text: made.name }), ` created with the ${made.role} role.`),
      h('p', { class: 'warn', text: 'Copy it now: this is the only time it is shown. It cannot be retrieved later; if it is lost, revoke it and create another.' }),
      h('div', { class: 'secret-row' }, valueEl, copy, done),
      copied);
    secret.hidden = false;
    valueEl.focus();
    valueEl.select();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, formError);
    forget();
    submit.disabled = true;
    try {
      const made = await api('POST', '/tokens', { name: name.value.trim(), role: role.value });
      name.value = '';
      reveal(made);
      await load();
    } catch (e) {
      const input = e.field === 'role' ? role : e.field === 'name' || e.code === 'conflict' ? name : null;
      showError(form, formError, input, e.message);
    } finally {
      submit.disabled = session.readOnly;
    }
  });

  const onRole = () => { load().catch(alertError); };
  session.listeners.add(onRole);
  return { el, load, unmount: () => { session.listeners.delete(onRole); forget(); } };
}
