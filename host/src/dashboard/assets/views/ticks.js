// A job's runs grouped by tick: every attempt of a tick is a run of its own (same scheduled
// instant, attempt 1..N); the job detail shows one row per tick, its attempts listed in it.

import { h } from '../dom.js';
import { badge, duration, short } from '../format.js';

/**
 * `runs` (newest first, as the API lists them) as ticks, newest first: `{ key, scheduled_at,
 * attempts (oldest first), last (the newest attempt), first }`.
 */
export function groupTicks(runs) {
  const ticks = new Map();
  for (const run of runs) {
    const key = run.scheduled_at;
    let tick = ticks.get(key);
    if (!tick) {
      tick = { key, scheduled_at: run.scheduled_at, attempts: [] };
      ticks.set(key, tick);
    }
    tick.attempts.push(run);
  }
  return [...ticks.values()].map((tick) => {
    tick.attempts.sort((a, b) => a.attempt - b.attempt);
    tick.first = tick.attempts[0];
    tick.last = tick.attempts[tick.attempts.length - 1];
    return tick;
  });
}

/** The attempts of a tick, as a list under it: status, error, duration of each. */
export function attemptList(tick) {
  if (tick.attempts.length === 1) return String(tick.last.attempt);
  return h('ol', { class: 'attempts', 'aria-label': `${tick.attempts.length} attempts` },
    tick.attempts.map((run) => h('li', { 'data-attempt': run.attempt, 'data-status': run.status, 'data-run': run.id },
      h('span', { class: 'attempt-no', text: `#${run.attempt}` }), ' ', badge(run.status), ' ',
      h('span', { class: 'num', text: duration(run.duration_ms) }),
      run.error ? h('span', { class: 'error-text', title: run.error, text: ` ${short(run.error, 100)}` }) : null)));
}

/** A retry policy in words. */
export function retryText(retry) {
  if (!retry) return 'cluster default (runs.default_retry)';
  if (retry.attempts <= 1) return 'no retry (1 attempt)';
  return `${retry.attempts} attempts, backoff ${retry.backoff} doubling up to ${retry.max_backoff}`;
}

/** Why a paused job is paused. */
export function pausedText(job) {
  if (job.status !== 'paused') return null;
  if (job.paused_reason === 'failures') {
    const n = job.pause_after_failures;
    return `paused by the host after ${n ?? 'its limit of'} consecutive failed ${n === 1 ? 'tick' : 'ticks'} (pause_after_failures)`;
  }
  return job.paused_reason ? `paused: ${job.paused_reason}` : 'paused by hand';
}
