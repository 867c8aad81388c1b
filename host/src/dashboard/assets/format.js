// Formatting of instants and durations: instants in the viewer's zone, UTC on hover.

const local = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** A `<time>` element for an RFC 3339 instant: local time shown, UTC in the title. */
export function time(iso, { relative = false } = {}) {
  const el = document.createElement('time');
  if (!iso) {
    el.textContent = '—';
    return el;
  }
  const t = new Date(iso);
  el.dateTime = iso;
  el.title = `${t.toISOString().replace('T', ' ').replace('Z', ' UTC')}`;
  el.textContent = relative ? `${local.format(t)} (${ago(t)})` : local.format(t);
  return el;
}

/** "3 s ago" / "in 5 s". */
export function ago(t, now = Date.now()) {
  const s = Math.round((now - t.getTime()) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/** Milliseconds as "850 ms", "2.4 s", "3 min 5 s". */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const sign = ms < 0 ? '−' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(a < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(a / 60_000);
  return `${sign}${m} min ${Math.round((a % 60_000) / 1000)} s`;
}

/** Lateness of a run: started_at − scheduled_at, in ms (null when not started). */
export function lateness(run) {
  if (!run.started_at) return null;
  return new Date(run.started_at).getTime() - new Date(run.scheduled_at).getTime();
}

/** Bytes as "1.2 MiB". */
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A status badge. */
export function badge(status) {
  const el = document.createElement('span');
  el.className = `badge badge-${status || 'none'}`;
  el.textContent = status || 'never ran';
  return el;
}

/** The first line of a text, at most `max` characters (for a list; the whole in a title). */
export function short(text, max = 160) {
  const line = String(text).split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A content digest (`sha256:…`) as a short `<code>`, the whole in its title. */
export function digest(d) {
  const el = document.createElement('code');
  if (!d) {
    el.textContent = '—';
    return el;
  }
  el.title = d;
  el.textContent = `${d.replace(/^sha256:/, '').slice(0, 12)}…`;
  return el;
}
