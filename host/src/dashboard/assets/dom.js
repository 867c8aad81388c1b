// Tiny DOM builder: every text goes in as text (never parsed as HTML), so data from the API
// cannot inject markup.

/**
 * Create an element. `attrs`: `class`, `text`, `onclick`-style handlers (functions), booleans
 * (set when true), anything else as an attribute. Children: nodes, strings, arrays, null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A table whose rows are updated in place as data changes, so what the viewer is pointing at,
 * focusing or has opened survives a live refresh. Rows are keyed by `key(item)`; `columns` are
 * `{ label, cell(item) }` (content re-rendered on each update, swapped in only when its markup
 * changed) or `{ label, mount(item) }` (a component `{ el, update(item) }` created once per row
 * and updated in place: for action buttons); a column's `class` goes on its header and cells
 * (`admin-only`: hidden for a read token). `rowAttrs(item)` sets the row's attributes.
 * Returns `{ el, update(items) }`; `update` keeps the order of `items`.
 */
export function keyedTable(caption, columns, { id, key, rowAttrs = () => ({}) }) {
  const tbody = h('tbody');
  const el = h('div', { class: 'table-wrap' },
    h('table', { id },
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class, text: c.label })))),
      tbody));
  const rows = new Map();

  function fill(row, item) {
    for (const [name, value] of Object.entries(rowAttrs(item))) {
      const v = value === null || value === undefined ? null : String(value);
      if (v === null) row.tr.removeAttribute(name);
      else if (row.tr.getAttribute(name) !== v) row.tr.setAttribute(name, v);
    }
    columns.forEach((c, i) => {
      const slot = row.cells[i];
      if (c.mount) {
        if (!slot.component) {
          slot.component = c.mount(item);
          slot.td.append(slot.component.el);
        } else slot.component.update(item);
        return;
      }
      const fresh = h('td', {}, c.cell(item));
      const markup = fresh.innerHTML;
      if (markup === slot.markup) return;
      slot.markup = markup;
      slot.td.replaceChildren(...fresh.childNodes);
    });
  }

  function update(items) {
    const seen = new Set();
    for (const item of items) seen.add(String(key(item)));
    for (const [k, row] of rows) {
      if (!seen.has(k)) { row.tr.remove(); rows.delete(k); }
    }
    let prev = null;
    for (const item of items) {
      const k = String(key(item));
      let row = rows.get(k);
      if (!row) {
        row = { tr: h('tr'), cells: columns.map((c) => ({ td: h('td', { 'data-label': c.label, class: c.class }), markup: null, component: null })) };
        row.tr.append(...row.cells.map((c) => c.td));
        rows.set(k, row);
      }
      fill(row, item);
      const expected = prev ? prev.nextSibling : tbody.firstChild;
      if (row.tr !== expected) tbody.insertBefore(row.tr, expected);
      prev = row.tr;
    }
  }

  return { el, update };
}

/**
 * Set the content of `el` to `content` unless the same markup is already there (as last
 * rendered by this function), so unchanged parts of a live view are not rebuilt.
 */
export function patch(el, ...content) {
  const fresh = h(el.tagName.toLowerCase(), {}, ...content);
  const markup = fresh.innerHTML;
  if (el.__markup === markup) return false;
  el.__markup = markup;
  el.replaceChildren(...fresh.childNodes);
  return true;
}


/** `fn` called at most once per `ms` burst (trailing). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * `fn` at most once every `ms`, `ms` after the first call that finds none pending: unlike
 * `debounce`, a steady stream of calls (a run event every few milliseconds) cannot put it off.
 */
export function throttle(fn, ms) {
  let timer = null;
  const wrapped = () => {
    if (timer !== null) return;
    timer = setTimeout(() => { timer = null; fn(); }, ms);
  };
  wrapped.cancel = () => { clearTimeout(timer); timer = null; };
  return wrapped;
}

/** A visible error message (role=alert). */
export function errorBox(message) {
  return h('p', { class: 'error-box', role: 'alert', text: message });
}

/**
 * A button that runs an action (hidden and disabled for a read-only token); shows errors via
 * `onError`. While the action runs the button is disabled and marked busy.
 */
export function actionButton(label, action, { kind = '', ariaLabel, onError } = {}) {
  const b = h('button', { type: 'button', class: kind, 'data-action': label.toLowerCase(), 'aria-label': ariaLabel || label, text: label });
  b.addEventListener('click', async () => {
    if (b.dataset.busy) return;
    b.dataset.busy = 'true';
    b.disabled = true;
    try {
      await action();
    } catch (e) {
      if (onError) onError(e);
      else alertError(e);
    } finally {
      delete b.dataset.busy;
      if (!document.body.classList.contains('read-only')) b.disabled = false;
    }
  });
  return b;
}

/** Show an API error in the page's banner. */
export function alertError(e) {
  const banner = document.getElementById('banner');
  banner.textContent = e.message;
  banner.hidden = false;
  clearTimeout(alertError.timer);
  alertError.timer = setTimeout(() => { banner.hidden = true; }, 8000);
}
