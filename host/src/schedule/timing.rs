//! A job's full timing: schedule, time zone and jitter.

use std::time::Duration;

use chrono_tz::Tz;

use super::schedule::Schedule;

/// A job's full timing. A tick's identity is its NOMINAL instant (Unix ms); jitter only delays
/// when the tick fires, by a fixed amount derived from the job id, so every replica agrees on
/// both the identity and the firing time.
#[derive(Clone, Debug, PartialEq)]
pub struct JobTiming {
    /// When the job is due.
    pub schedule: Schedule,
    /// The zone cron fields are read in (irrelevant for `@every`).
    pub tz: Tz,
    /// Upper bound (exclusive) of the per-job firing delay; zero disables it.
    pub jitter: Duration,
}

impl JobTiming {
    /// Bundles a schedule, a zone and a jitter bound.
    pub fn new(schedule: Schedule, tz: Tz, jitter: Duration) -> Self {
        JobTiming {
            schedule,
            tz,
            jitter,
        }
    }

    /// The nominal instant (Unix ms) of the first tick strictly after `after_ms`.
    pub fn next_tick_ms(&self, after_ms: i64) -> Option<i64> {
        self.schedule.next_tick_ms(after_ms, self.tz)
    }

    /// How many ticks lie in `(after_ms, upto_ms]`.
    pub fn count_ticks_ms(&self, after_ms: i64, upto_ms: i64) -> u64 {
        self.schedule.count_ticks_ms(after_ms, upto_ms, self.tz)
    }

    /// The `n`-th (0-based) tick in `(after_ms, upto_ms]`.
    pub fn nth_tick_ms(&self, after_ms: i64, upto_ms: i64, n: u64) -> Option<i64> {
        self.schedule.nth_tick_ms(after_ms, upto_ms, n, self.tz)
    }

    /// The firing delay of this job: a deterministic function of the job id, in whole
    /// milliseconds, strictly below `jitter` (zero when `jitter` is below 1 ms).
    pub fn fire_delay(&self, job_id: &str) -> Duration {
        let bound = self.jitter.as_millis();
        if bound == 0 {
            return Duration::ZERO;
        }
        let ms = u128::from(stable_hash(job_id.as_bytes())) % bound;
        Duration::from_millis(ms as u64)
    }

    /// When a tick fires: its nominal instant plus this job's delay (Unix ms).
    pub fn fire_at_ms(&self, tick_ms: i64, job_id: &str) -> i64 {
        tick_ms.saturating_add(self.fire_delay(job_id).as_millis() as i64)
    }
}

/// FNV-1a followed by a SplitMix64 finalizer: stable across builds, platforms and versions
/// (unlike the standard library's hasher), and well spread for similar ids.
fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}
