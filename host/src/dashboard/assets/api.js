// The API client: JSON in and out, the bearer token (kept in sessionStorage), the one error
// shape `{"error": {"code", "message", "field"}}`, and the session's role (from
// `GET /api/v1/whoami`, and read-only after a 403).

const TOKEN_KEY = 'wasmcron.token';

/** An error answered by the API (or the network). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

/**
 * What the page knows about its session: who the token is (`GET /api/v1/whoami`) and what it
 * may do. `role` is `admin` or `read` (null until known); `name` is the token's name (null when
 * the API needs no token). Listeners run whenever any of it changes.
 */
export const session = {
  role: null,
  name: null,
  authRequired: false,
  /** The API's words when it last refused an action (403), if it did. */
  refusal: null,
  listeners: new Set(),
  get readOnly() { return this.role === 'read'; },
  set(fields) {
    Object.assign(this, fields);
    for (const fn of this.listeners) fn();
  },
};

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Drop the stored token (refused, or the viewer signs out): the page no longer knows who it is. */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (session.name !== null) session.set({ name: null });
  document.dispatchEvent(new CustomEvent('wasmcron:token-forgotten'));
}

/** Headers that authenticate a request (none when no token is stored). */
export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

let pendingPrompt = null;

/**
 * Ask the viewer for a token (one dialog however many requests wait); resolves once a token
 * is stored. `reason` is the API's message.
 */
export function askToken(reason, wrong = false) {
  if (pendingPrompt) return pendingPrompt;
  pendingPrompt = new Promise((resolve) => {
    const dialog = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    const error = document.getElementById('token-error');
    document.getElementById('token-reason').textContent = reason || 'This cluster\'s API requires a bearer token.';
    error.hidden = !wrong;
    error.textContent = wrong ? 'That token was refused.' : '';
    input.setAttribute('aria-invalid', wrong ? 'true' : 'false');
    input.value = '';
    const done = (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      form.removeEventListener('submit', done);
      dialog.close();
      pendingPrompt = null;
      document.dispatchEvent(new CustomEvent('wasmcron:token'));
      resolve();
    };
    form.addEventListener('submit', done);
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    dialog.showModal();
    input.focus();
  });
  return pendingPrompt;
}

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  return new ApiError(
    response.status,
    (e && e.code) || `http_${response.status}`,
    (e && e.message) || `${response.status} ${response.statusText}`,
    e && e.field,
  );
}

/**
 * Call the API: `method`, path below `/api/v1`, optional JSON body. Returns the parsed JSON
 * (null for 204). Asks for a token on 401 and retries; throws ApiError otherwise.
 */
export async function api(method, path, body) {
  for (;;) {
    const headers = { Accept: 'application/json', ...authHeaders() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach this replica: ${e.message}`);
    }
    if (response.status === 401) {
      const err = await errorOf(response);
      const wrong = err.code === 'invalid_token';
      if (wrong) forgetToken();
      await askToken(err.message, wrong);
      continue;
    }
    if (response.status === 403) {
      const err = await errorOf(response);
      err.message = `Refused: ${err.message}`;
      // The token may read but not act: whatever the page believed, act on what the API says.
      session.set({ role: 'read', refusal: err.message });
      throw err;
    }
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }
}

/** Path segment, encoded. */
export const seg = (s) => encodeURIComponent(s);

/**
 * Ask the API who this page's token is and record it in `session`. An API that predates
 * `/whoami` (404) is taken as one that lets everyone act.
 */
export async function whoami() {
  try {
    const me = await api('GET', '/whoami');
    session.set({ role: me.role === 'read' ? 'read' : 'admin', name: me.name ?? null, authRequired: !!me.auth_required, refusal: null });
  } catch (e) {
    if (e.status === 404) session.set({ role: 'admin', name: null, authRequired: false });
    else throw e;
  }
  return session;
}
