// The cluster's live event stream (`GET /api/v1/events`, Server-Sent Events), read with
// `fetch` and a stream reader so the bearer token can be sent (EventSource cannot send
// headers). Reconnects with `Last-Event-ID`, so nothing is missed across a reconnect.

import { askToken, authHeaders, forgetToken } from './api.js';

const listeners = new Set();
const stateListeners = new Set();
let lastId = null;
let state = 'connecting';

/** Call `fn(event)` for every event (`{id, at, kind, data}`); also `{kind: 'connected'}` on each
 * (re)connection. Returns the function that unsubscribes. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Call `fn(state)` when the connection state changes (`connecting`, `live`, `reconnecting`). */
export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
}

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

function emit(event) {
  for (const fn of [...listeners]) {
    try { fn(event); } catch (e) { console.error('event listener failed', e); }
  }
}

/** Parse one SSE message block into `{id, event, data}`. */
export function parseBlock(block) {
  const msg = { id: null, event: 'message', data: [] };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') msg.id = value;
    else if (field === 'event') msg.event = value;
    else if (field === 'data') msg.data.push(value);
  }
  return msg.data.length ? { ...msg, data: msg.data.join('\n') } : null;
}

async function once() {
  const headers = { Accept: 'text/event-stream', ...authHeaders() };
  if (lastId !== null) headers['Last-Event-ID'] = lastId;
  const response = await fetch('/api/v1/events', { headers, cache: 'no-store' });
  if (response.status === 401) {
    let message = 'This cluster\'s API requires a bearer token.';
    let wrong = false;
    try {
      const body = await response.json();
      message = body.error.message;
      wrong = body.error.code === 'invalid_token';
    } catch { /* keep the default */ }
    if (wrong) forgetToken();
    await askToken(message, wrong);
    return;
  }
  if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
  setState('live');
  emit({ kind: 'connected' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const msg = parseBlock(block);
      if (!msg) continue;
      if (msg.id !== null) lastId = msg.id;
      try {
        emit(JSON.parse(msg.data));
      } catch (e) {
        console.error('bad event', e);
      }
    }
  }
}

/** Keep the stream open for the life of the page. */
export async function start() {
  let delay = 500;
  for (;;) {
    const opened = Date.now();
    try {
      await once();
    } catch (e) {
      console.warn('event stream', e.message);
    }
    setState('reconnecting');
    if (Date.now() - opened > 10_000) delay = 500;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 8000);
  }
}
