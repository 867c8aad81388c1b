//! Firing due ticks (the overlap policy decides run, skip or queue), re-arming their timers,
//! manual triggers, and what starts when a run ends.

use super::{Action, MISFIRE_GRACE_MS, ManualWait, NotRun, SchedulerCore};
use crate::schedule::{OverlapDecision, OverlapPolicy, decide_overlap};

impl SchedulerCore {
    /// Arm the timers of the jobs [`Self::fire_due`] fired, from the tick each just fired
    /// (never from "now"). Call it after dispatching `fire_due`'s actions.
    pub fn rearm_fired(&mut self) {
        self.rearm_fired_at_most(usize::MAX);
    }

    /// [`Self::rearm_fired`] for up to `max` of the fired jobs (the rest wait for the next
    /// call): computing next ticks is the costly part of a burst, and can be spread out.
    pub fn rearm_fired_at_most(&mut self, max: usize) {
        let from = self.fired.len().saturating_sub(max);
        for key in self.fired.split_off(from) {
            let Some(slot) = self.slots.get_mut(key) else {
                continue;
            };
            if slot.next_tick.is_none() {
                continue;
            }
            let next = slot.spec.timing.next_tick_ms(slot.cursor_ms);
            slot.next_tick = next;
            match next {
                Some(next) => self
                    .timers
                    .arm(key, next.saturating_add(slot.fire_delay_ms)),
                None => self.timers.disarm(key),
            }
        }
    }

    /// Process every timer due at `now_ms`. Follow with [`Self::rearm_fired`].
    pub fn fire_due(&mut self, now_ms: i64) -> Vec<Action> {
        self.fire_due_at_most(now_ms, usize::MAX)
    }

    /// Whether a timer is due at `now_ms`.
    pub fn has_due(&self, now_ms: i64) -> bool {
        self.timers.next_deadline().is_some_and(|at| at <= now_ms)
    }

    /// Whether jobs fired by [`Self::fire_due`] wait for [`Self::rearm_fired`].
    pub fn has_fired(&self) -> bool {
        !self.fired.is_empty()
    }

    /// Process up to `max` of the timers due at `now_ms`, earliest first, so a burst can be
    /// handed out in parts while the rest is still being decided. Follow with
    /// [`Self::rearm_fired`] once nothing more is due.
    pub fn fire_due_at_most(&mut self, now_ms: i64, max: usize) -> Vec<Action> {
        let mut actions = Vec::with_capacity(max.min(64));
        let mut fired = 0;
        while fired < max
            && let Some((key, _fire_at)) = self.timers.pop_due(now_ms)
        {
            fired += 1;
            self.fire_one(key, now_ms, &mut actions);
        }
        actions
    }

    pub(super) fn fire_one(&mut self, key: u64, now_ms: i64, actions: &mut Vec<Action>) {
        let cluster_paused = self.cluster_paused;
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        let Some(tick) = slot.next_tick else { return };
        if cluster_paused {
            // Maintenance: nothing starts. The tick stays unaccounted; resuming re-plans the
            // job and the misfire policy decides what runs.
            slot.next_tick = None;
            return;
        }
        if now_ms - tick > MISFIRE_GRACE_MS + slot.jitter_ms {
            // Late (the process was paused, the loop starved, …): the misfire policy decides.
            actions.extend(self.catch_up_key(key, now_ms, MISFIRE_GRACE_MS));
            return;
        }
        let spec = slot.spec.clone();
        slot.cursor_ms = tick;
        // The next tick is computed and armed by `rearm_fired`, after this burst's runs are
        // dispatched: with thousands of jobs due at one instant, the last one starts sooner.
        self.fired.push(slot.key);
        match decide_overlap(slot.overlap, slot.running > 0, slot.queued.is_some()) {
            OverlapDecision::Run => {
                slot.start(tick);
                actions.push(Action::Run {
                    job: spec,
                    key,
                    tick_ms: tick,
                    catch_up: false,
                });
            }
            OverlapDecision::Queue => slot.queued = Some((tick, false)),
            OverlapDecision::Skip => actions.push(Action::Record {
                job: spec,
                key,
                ticks: vec![(tick, NotRun::Overlap)],
                unlisted_missed: 0,
                unlisted_range: None,
                after_run: slot.last_run,
            }),
        }
    }

    /// Start a manual trigger of `job_id` now, as a run of the job like any other: it counts
    /// for the overlap policy (a tick due while it runs is skipped or queued), and the job's
    /// next run waits for it. While a run of the job is in progress (overlap policy other than
    /// `allow`) one trigger waits for it and starts as soon as it ends, ahead of queued and
    /// catch-up ticks. A paused job can be triggered; the maintenance switch holds it.
    pub fn manual(
        &mut self,
        job_id: &str,
        tick_ms: i64,
        trigger_id: i64,
    ) -> Result<Action, ManualWait> {
        if self.cluster_paused {
            return Err(ManualWait::ClusterPaused);
        }
        let slot = self.slot_mut(job_id).ok_or(ManualWait::NotHeld)?;
        if slot.running > 0 && slot.overlap != OverlapPolicy::Allow {
            return match slot.manual {
                None => {
                    slot.manual = Some((tick_ms, trigger_id));
                    Err(ManualWait::AfterRun)
                }
                Some((_, waiting)) if waiting == trigger_id => Err(ManualWait::AfterRun),
                Some(_) => Err(ManualWait::Busy),
            };
        }
        slot.start(tick_ms);
        Ok(Action::Manual {
            job: slot.spec.clone(),
            key: slot.key,
            tick_ms,
            trigger_id,
        })
    }

    /// Take up a planned attempt of a tick of `job_id` that no run here waits for (its
    /// planner stopped waiting): it counts as a run of the job, for the overlap policy, until
    /// it ends. `None` while the maintenance switch is on or the job is not held here.
    pub fn retry(
        &mut self,
        job_id: &str,
        tick_ms: i64,
        attempt: i32,
        (catch_up, manual): (bool, bool),
    ) -> Option<Action> {
        if self.cluster_paused {
            return None;
        }
        let slot = self.slot_mut(job_id)?;
        if slot.spec.paused {
            return None;
        }
        slot.running += 1;
        Some(Action::Retry {
            job: slot.spec.clone(),
            key: slot.key,
            tick_ms,
            attempt,
            catch_up,
            manual,
        })
    }

    /// A run of the job ended: start what waits for it (a queued tick, the next catch-up tick).
    pub fn finished(&mut self, job_id: &str) -> Vec<Action> {
        match self.keys.get(job_id) {
            Some(&key) => self.run_ended(key, None),
            None => Vec::new(),
        }
    }

    /// Whether a job is held under `key` (it was not dropped or re-taken since).
    pub fn holds_key(&self, key: u64) -> bool {
        self.slots.contains(key)
    }

    /// [`Self::finished`] for the job held under `key`, whose run for `tick_ms` ended (a
    /// tick, a manual trigger or a planned attempt): the tick is no longer under way.
    pub fn finished_key(&mut self, key: u64, tick_ms: i64) -> Vec<Action> {
        self.run_ended(key, Some(tick_ms))
    }

    fn run_ended(&mut self, key: u64, tick_ms: Option<i64>) -> Vec<Action> {
        let cluster_paused = self.cluster_paused;
        let Some(slot) = self.slots.get_mut(key) else {
            return Vec::new();
        };
        slot.running = slot.running.saturating_sub(1);
        if let Some(tick_ms) = tick_ms {
            slot.handed_out.remove(&tick_ms);
        }
        if cluster_paused || (slot.running > 0 && slot.overlap != OverlapPolicy::Allow) {
            return Vec::new();
        }
        if let Some((tick_ms, trigger_id)) = slot.manual.take() {
            slot.start(tick_ms);
            return vec![Action::Manual {
                job: slot.spec.clone(),
                key: slot.key,
                tick_ms,
                trigger_id,
            }];
        }
        let next = slot.catch_up.pop_front().or_else(|| slot.queued.take());
        match next {
            Some((tick_ms, catch_up)) => {
                slot.start(tick_ms);
                vec![Action::Run {
                    job: slot.spec.clone(),
                    key: slot.key,
                    tick_ms,
                    catch_up,
                }]
            }
            None => Vec::new(),
        }
    }
}
