// Create or edit a job. The API validates; its message is shown at the field it names. The
// spec of a job declared in a jobs file is shown read-only, with why.

import { api, ApiError, seg } from '../api.js';
import { errorBox, h, replace } from '../dom.js';
import { managedNote } from './managed.js';

const FIELDS = [
  { name: 'name', label: 'Name', help: 'Letters, digits, ".", "_" and "-".', required: true },
  { name: 'schedule', label: 'Schedule', help: 'Cron (5 or 6 fields, e.g. "*/5 * * * *"), "@hourly", or "@every 30s".', required: true },
  { name: 'timezone', label: 'Time zone', help: 'IANA zone the cron is read in.', list: 'zones', placeholder: 'UTC' },
  { name: 'plugin', label: 'Plugin', help: 'File stem of a component in the plugins directory.', list: 'plugin-names', required: true },
  { name: 'input', label: 'Input (JSON)', kind: 'json', help: 'Any JSON value, handed to the plugin with each tick.' },
  { name: 'config', label: 'Config (JSON object of strings)', kind: 'json', help: 'Read by the plugin with config-get.' },
  { name: 'overlap', label: 'Overlap policy', kind: 'select', options: ['', 'skip', 'allow', 'queue'], help: 'When a tick is due while the previous run still runs.' },
  { name: 'misfire', label: 'Misfire policy', kind: 'select', options: ['', 'run_once', 'skip', 'run_all'], help: 'What happens to ticks missed while no replica ran the job.' },
  { name: 'catchup_window', label: 'Catch-up window', placeholder: '1h' },
  { name: 'jitter', label: 'Jitter', placeholder: '0s' },
  { name: 'timeout', label: 'Timeout', placeholder: 'cluster default' },
  { name: 'memory_limit', label: 'Memory limit', placeholder: '64MiB' },
  { name: 'allowed_hosts', label: 'Allowed hosts', kind: 'list', help: 'Comma-separated: host, *.domain, host:port, or *.' },
];

function control(f) {
  const id = `field-${f.name}`;
  const describedBy = [f.help ? `help-${f.name}` : null, `err-${f.name}`].filter(Boolean).join(' ');
  const common = { id, name: f.name, 'aria-describedby': describedBy, required: !!f.required };
  let input;
  if (f.kind === 'json') input = h('textarea', { ...common, rows: 3, spellcheck: 'false', class: 'mono' });
  else if (f.kind === 'select') {
    input = h('select', common, f.options.map((o) => h('option', { value: o, text: o || '(default)' })));
  } else input = h('input', { ...common, type: 'text', autocomplete: 'off', spellcheck: 'false', list: f.list, placeholder: f.placeholder });
  return h('div', { class: 'field', 'data-field': f.name },
    h('label', { for: id, text: f.label }),
    input,
    f.help ? h('p', { class: 'help', id: `help-${f.name}`, text: f.help }) : null,
    h('p', { class: 'field-error', id: `err-${f.name}`, hidden: true }));
}

function valueOf(job, name) {
  const v = job[name];
  if (v === null || v === undefined) return '';
  if (name === 'input' || name === 'config') return JSON.stringify(v, null, 2);
  if (name === 'allowed_hosts') return v.join(', ');
  return String(v);
}

export function mount(main, params) {
  const editing = params.edit || null;
  const formError = h('div', { id: 'form-error' });
  const paused = h('input', { type: 'checkbox', id: 'field-paused', name: 'paused' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'save', text: editing ? 'Save changes' : 'Create job' });
  const cancel = h('a', { class: 'button', href: editing ? `#/jobs/${seg(editing)}` : '#/jobs', text: 'Cancel' });
  const formEl = h('form', { id: 'job-form', class: 'job-form admin-only', novalidate: true },
    FIELDS.map(control),
    editing ? null : h('div', { class: 'field checkbox' }, paused, h('label', { for: 'field-paused', text: 'Create paused' })),
    formError,
    h('div', { class: 'actions' }, submit, cancel));
  const title = h('h1', { text: editing ? 'Edit job' : 'New job' });
  const note = h('div', { id: 'form-note' });
  const zones = h('datalist', { id: 'zones' }, (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : ['UTC']).map((z) => h('option', { value: z })));
  const pluginNames = h('datalist', { id: 'plugin-names' });
  replace(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs', text: 'Jobs' }), ' / ', editing ? 'Edit' : 'New job'),
    title,
    h('p', { class: 'read-only-note error-box', text: `This token has the read role: it cannot ${editing ? 'change' : 'create'} jobs.` }),
    note, formEl, zones, pluginNames);

  api('GET', '/plugins').then((plugins) => {
    replace(pluginNames, plugins.map((p) => h('option', { value: p.name })));
  }).catch(() => {});

  /** A job from a jobs file: its spec shown, nothing to change or save. */
  function readOnly(job) {
    title.textContent = 'Job spec (read-only)';
    replace(note, managedNote(job));
    for (const el of formEl.elements) el.disabled = true;
    submit.hidden = true;
    cancel.textContent = 'Back to the job';
    formEl.dataset.readOnly = 'true';
  }

  let original = null;
  if (editing) {
    api('GET', `/jobs/${seg(editing)}`).then((job) => {
      original = job;
      for (const f of FIELDS) formEl.elements[f.name].value = valueOf(job, f.name);
      if (job.managed_by) readOnly(job);
    }).catch((e) => replace(formError, errorBox(e.message)));
  } else {
    formEl.elements.timezone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  }

  function clearErrors() {
    replace(formError);
    for (const el of formEl.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
    for (const el of formEl.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  function showError(field, message) {
    const input = field && formEl.elements[field];
    const slot = field && document.getElementById(`err-${field}`);
    if (input && slot) {
      input.setAttribute('aria-invalid', 'true');
      slot.textContent = message;
      slot.hidden = false;
      input.focus();
    } else {
      replace(formError, errorBox(message));
    }
  }

  function collect() {
    const body = {};
    for (const f of FIELDS) {
      const raw = formEl.elements[f.name].value.trim();
      if (editing && original && raw === valueOf(original, f.name).trim()) continue;
      if (!raw) continue;
      if (f.kind === 'json') {
        try { body[f.name] = JSON.parse(raw); } catch (e) { throw new ApiError(400, 'invalid_json', `${f.label}: not valid JSON (${e.message})`, f.name); }
      } else if (f.kind === 'list') body[f.name] = raw.split(/[\s,]+/).filter(Boolean);
      else if (f.name === 'memory_limit' && /^\d+$/.test(raw)) body[f.name] = Number(raw);
      else body[f.name] = raw;
    }
    if (!editing && paused.checked) body.paused = true;
    return body;
  }

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (original && original.managed_by) return;
    clearErrors();
    submit.disabled = true;
    try {
      const body = collect();
      const job = editing
        ? await api('PATCH', `/jobs/${seg(editing)}`, body)
        : await api('POST', '/jobs', body);
      location.hash = `#/jobs/${seg(job.id)}`;
    } catch (e) {
      showError(e.field, e.message);
    } finally {
      submit.disabled = false;
    }
  });
  formEl.elements.name.focus();
  return null;
}
