//! Planning what a job owes from its cursor: catch-up after a take, an outage or the
//! maintenance switch, by the misfire policy, around ticks the database already records.

use super::{Action, MAX_LISTED_MISSED, MISFIRE_GRACE_MS, NotRun, SchedulerCore};
use crate::schedule::{
    CatchUpPlan, MisfirePolicy, OverlapDecision, OverlapPolicy, decide_overlap, plan_catch_up,
};

impl SchedulerCore {
    /// Re-plan a job from its cursor (after it was taken, or after ticks could not be
    /// recorded during a database outage). Ticks late by more than [`MISFIRE_GRACE_MS`] follow
    /// the misfire policy; ticks due within the grace are run as ordinary ticks, in order, so
    /// a handover between replicas costs no tick.
    pub fn catch_up(&mut self, job_id: &str, now_ms: i64) -> Vec<Action> {
        self.catch_up_with_grace(job_id, now_ms, MISFIRE_GRACE_MS)
    }

    /// [`Self::catch_up`] with ticks late by more than `grace_ms` following the misfire policy.
    pub(super) fn catch_up_with_grace(
        &mut self,
        job_id: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Vec<Action> {
        match self.keys.get(job_id) {
            Some(&key) => self.catch_up_key(key, now_ms, grace_ms),
            None => Vec::new(),
        }
    }

    pub(super) fn catch_up_key(&mut self, key: u64, now_ms: i64, grace_ms: i64) -> Vec<Action> {
        let cluster_paused = self.cluster_paused;
        let Some(slot) = self.slots.get_mut(key) else {
            return Vec::new();
        };
        if slot.spec.paused {
            return Vec::new();
        }
        if cluster_paused {
            // Maintenance (a take or an edit during it): nothing is planned, not even the
            // ticks within the grace — queued as ordinary ticks, they would run late on
            // resume as if on time. They stay unaccounted behind the cursor, and resuming
            // re-plans the job by its misfire policy.
            self.timers.disarm(key);
            slot.next_tick = None;
            return Vec::new();
        }
        // A jittered job's tick is due at its own instant, a fixed delay after the schedule's:
        // a tick whose instant has passed but whose delay has not is neither late nor due yet
        // (its timer fires it), so the plan runs on the job's clock, that delay behind.
        let now_ms = now_ms - slot.fire_delay_ms;
        let spec = slot.spec.clone();
        let late_cutoff = (now_ms - grace_ms).max(slot.cursor_ms);
        let mut plan: CatchUpPlan = plan_catch_up(
            &spec.timing,
            slot.cursor_ms,
            late_cutoff,
            spec.misfire,
            spec.catchup_window,
            MAX_LISTED_MISSED,
        );
        let mut actions = Vec::new();
        let window_start = late_cutoff - spec.catchup_window.as_millis() as i64;
        // Taken over with a hole, or re-planned after an outage: ticks the database already
        // records, and ticks handed to runs still under way (their records may land yet), are
        // neither run nor recorded again; the policy applies to the others.
        let recorded_ticks = slot.accounted_after_cursor();
        slot.recorded.clear();
        if !recorded_ticks.is_empty() {
            let planned_a_run = !plan.run.is_empty();
            plan.missed.retain(|t| !recorded_ticks.contains(t));
            plan.run.retain(|t| !recorded_ticks.contains(t));
            if planned_a_run
                && plan.run.is_empty()
                && spec.misfire == MisfirePolicy::RunOnce
                && plan.missed.last().is_some_and(|&t| t >= window_start)
            {
                plan.run.extend(plan.missed.pop());
            }
        }
        let recorded: Vec<(i64, NotRun)> = plan
            .missed
            .iter()
            .map(|&tick| {
                let why = if tick < window_start {
                    NotRun::CatchupWindow
                } else {
                    NotRun::Misfire
                };
                (tick, why)
            })
            .collect();
        if !recorded.is_empty() || plan.missed_truncated > 0 {
            let unlisted_range = (plan.missed_truncated > 0).then(|| {
                (
                    slot.cursor_ms,
                    plan.missed.first().copied().unwrap_or(late_cutoff),
                )
            });
            actions.push(Action::Record {
                job: spec.clone(),
                key,
                ticks: recorded,
                unlisted_missed: plan.missed_truncated,
                unlisted_range,
                after_run: None,
            });
        }
        slot.catch_up.extend(plan.run.iter().map(|&t| (t, true)));
        // Recent ticks (within the grace): ordinary runs, in order. While a run of the job is
        // in progress (a re-planning after an outage, a late timer), they came due during it,
        // and the overlap policy decides, as it does for a timer that fires then: queued
        // behind that run they would wait however long it lasts (a slow run and its retries),
        // unrecorded, and run late as if on time.
        let busy = slot.running > 0 && spec.overlap != OverlapPolicy::Allow;
        let mut overlapped = Vec::new();
        let mut cursor = late_cutoff;
        while let Some(tick) = spec.timing.next_tick_ms(cursor) {
            if tick > now_ms || slot.catch_up.len() + overlapped.len() >= MAX_LISTED_MISSED {
                break;
            }
            if !recorded_ticks.contains(&tick) {
                if !busy {
                    slot.catch_up.push_back((tick, false));
                } else if decide_overlap(spec.overlap, true, slot.queued.is_some())
                    == OverlapDecision::Queue
                {
                    slot.queued = Some((tick, false));
                } else {
                    overlapped.push((tick, NotRun::Overlap));
                }
            }
            cursor = tick;
        }
        if !overlapped.is_empty() {
            actions.push(Action::Record {
                job: spec.clone(),
                key,
                ticks: overlapped,
                unlisted_missed: 0,
                unlisted_range: None,
                after_run: slot.last_run,
            });
        }
        slot.cursor_ms = cursor.max(late_cutoff);
        if (slot.running == 0 || spec.overlap == OverlapPolicy::Allow)
            && let Some((tick, catch_up)) = slot.catch_up.pop_front()
        {
            slot.start(tick);
            actions.push(Action::Run {
                job: spec.clone(),
                key,
                tick_ms: tick,
                catch_up,
            });
        }
        let next = spec.timing.next_tick_ms(slot.cursor_ms.max(now_ms));
        slot.next_tick = next;
        match next {
            Some(tick) => self
                .timers
                .arm(key, tick.saturating_add(slot.fire_delay_ms)),
            None => self.timers.disarm(key),
        }
        actions
    }

    /// A tick could not be recorded (database unavailable): it stays unaccounted, and the job
    /// is re-planned by the misfire policy once the database is back ([`Self::catch_up`]).
    /// `was_run` tells whether the tick was handed out as a run (then it no longer runs).
    pub fn stalled(&mut self, job_id: &str, tick_ms: i64, was_run: bool) {
        if let Some(slot) = self.keys.get(job_id).and_then(|&k| self.slots.get_mut(k)) {
            if was_run {
                slot.running = slot.running.saturating_sub(1);
                slot.handed_out.remove(&tick_ms);
            }
            // Never back before the anchor: no tick at or before it is owed under the
            // current schedule (a stalled record of an edit's superseded ticks included).
            slot.cursor_ms = slot.cursor_ms.min(tick_ms - 1).max(slot.spec.anchor_ms);
            slot.catch_up.retain(|&(t, _)| t < tick_ms);
            if slot.queued.is_some_and(|(t, _)| t >= tick_ms) {
                slot.queued = None;
            }
            self.timers.disarm(slot.key);
            slot.next_tick = None;
        }
    }

    /// Jobs with no armed timer that are not paused: stalled by an outage, to be re-planned.
    /// None while the maintenance switch is on (its end re-plans every job).
    pub fn stalled_jobs(&self) -> Vec<String> {
        if self.cluster_paused {
            return Vec::new();
        }
        self.slots
            .values()
            .filter(|s| {
                !s.spec.paused
                    && s.next_tick.is_none()
                    && s.spec.timing.next_tick_ms(s.cursor_ms).is_some()
            })
            .map(|s| s.spec.id.clone())
            .collect()
    }

    /// Turn the cluster-wide maintenance switch. While it is on no tick starts and ticks stay
    /// unaccounted; turning it off re-plans every job, so the misfire policy decides what the
    /// pause cost (recorded `missed`, or run late with `catch-up = true`).
    pub fn set_cluster_paused(&mut self, paused: bool, now_ms: i64) -> Vec<Action> {
        let was = std::mem::replace(&mut self.cluster_paused, paused);
        let mut actions = Vec::new();
        if was && !paused {
            for id in self.job_ids() {
                actions.extend(self.finished_like_idle(&id));
                if self.slot(&id).is_some_and(|s| s.next_tick.is_none()) {
                    // Every tick that came due during the maintenance pause follows the
                    // misfire policy (none runs late as if nothing had happened).
                    actions.extend(self.catch_up_with_grace(&id, now_ms, 0));
                }
            }
        }
        actions
    }

    /// Start what waits for a job that has nothing running.
    pub(super) fn finished_like_idle(&mut self, job_id: &str) -> Vec<Action> {
        match self.slot_mut(job_id) {
            Some(slot) if slot.running == 0 => {
                slot.running = 1;
                self.finished(job_id)
            }
            _ => Vec::new(),
        }
    }
}
