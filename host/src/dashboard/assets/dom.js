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

/** A table with a caption, header cells and rows (arrays of cells). */
export function table(caption, headers, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows)));
}

/** A data-labelled cell (the label shows on narrow screens, where rows stack). */
export function td(label, ...content) {
  return h('td', { 'data-label': label }, ...content);
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

/** A visible error message (role=alert). */
export function errorBox(message) {
  return h('p', { class: 'error-box', role: 'alert', text: message });
}

/** A button that runs an action (disabled in read-only mode); shows errors via `onError`. */
export function actionButton(label, action, { kind = '', ariaLabel, onError } = {}) {
  const b = h('button', { type: 'button', class: kind, 'data-action': label.toLowerCase(), 'aria-label': ariaLabel || label, text: label });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await action();
    } catch (e) {
      if (onError) onError(e);
      else alertError(e);
    } finally {
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
  alertError.timer = setTimeout(() => { banner.hidden = !document.body.classList.contains('read-only'); }, 8000);
}
