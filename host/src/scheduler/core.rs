//! The scheduler's state machine: which ticks of which owned jobs are due, and what to do
//! with each (run, skip, queue, record missed). It performs no I/O; the [`super::Scheduler`]
//! loop executes the [`Action`]s it returns. Time is passed in (database-clock milliseconds),
//! so every policy is testable with a controlled clock.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use super::slab::Slab;
use super::timers::Timers;
use crate::jobs::JobSpec;
use crate::schedule::{
    CatchUpPlan, MisfirePolicy, OverlapDecision, OverlapPolicy, decide_overlap, plan_catch_up,
};
use crate::store::{RunReason, RunStatus};

/// A tick whose timer fires later than this after its scheduled instant is treated as
/// misfired (the misfire policy decides), not run as an on-time tick.
pub const MISFIRE_GRACE_MS: i64 = 5_000;

/// Most missed ticks listed one by one per catch-up (the rest are counted in one record).
pub const MAX_LISTED_MISSED: usize = 10_000;

/// Why a tick was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRun {
    /// Skipped: the previous run of the job was still running (overlap policy `skip`, or a
    /// second tick while one already waits under `queue`).
    Overlap,
    /// Missed: its instant passed while it could not be run, and the misfire policy did not
    /// run it.
    Misfire,
    /// Missed: older than the job's catch-up window.
    CatchupWindow,
}

impl NotRun {
    /// The run status the tick is recorded with.
    pub fn status(self) -> RunStatus {
        match self {
            NotRun::Overlap => RunStatus::Skipped,
            NotRun::Misfire | NotRun::CatchupWindow => RunStatus::Missed,
        }
    }

    /// The reason recorded with it.
    pub fn reason(self) -> RunReason {
        match self {
            NotRun::Overlap => RunReason::Overlap,
            NotRun::Misfire => RunReason::Misfire,
            NotRun::CatchupWindow => RunReason::CatchupWindow,
        }
    }
}

/// Why a manual trigger does not start now (it stays pending and is offered again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManualWait {
    /// The job is not held here (being taken, or owned elsewhere now).
    NotHeld,
    /// The maintenance switch `scheduler.paused` is on: no tick starts.
    ClusterPaused,
    /// A run of the job is in progress and its overlap policy is not `allow`: the trigger
    /// starts when that run ends, before any other tick of the job.
    AfterRun,
    /// Another manual trigger of the job already waits for the run in progress.
    Busy,
}

/// What the scheduler loop must do.
#[derive(Clone, Debug)]
pub enum Action {
    /// Run the tick (record it as running first).
    Run {
        job: Arc<JobSpec>,
        /// The key the job is held under ([`SchedulerCore::key_of`]).
        key: u64,
        tick_ms: i64,
        catch_up: bool,
    },
    /// Run a manual trigger (`POST /jobs/{id}/trigger`) of the job as a tick at `tick_ms`;
    /// the trigger is deleted once the tick is recorded.
    Manual {
        job: Arc<JobSpec>,
        /// The key the job is held under ([`SchedulerCore::key_of`]).
        key: u64,
        tick_ms: i64,
        trigger_id: i64,
    },
    /// Record ticks that are not run.
    Record {
        job: Arc<JobSpec>,
        /// The key the job is held under ([`SchedulerCore::key_of`]).
        key: u64,
        ticks: Vec<(i64, NotRun)>,
        /// Further missed ticks not listed (a very long outage of a frequent job).
        unlisted_missed: u64,
        unlisted_range: Option<(i64, i64)>,
        /// Record only if this tick's run is recorded: a tick skipped for overlap names the
        /// run it overlapped, which may never have begun (its record failed in a database
        /// outage); then the skipped tick stays unaccounted and is re-planned.
        after_run: Option<i64>,
    },
}

#[derive(Debug)]
struct Slot {
    key: u64,
    spec: Arc<JobSpec>,
    /// Copied from `spec` (read for every tick; the spec itself is not touched then).
    overlap: OverlapPolicy,
    jitter_ms: i64,
    /// This job's firing delay ([`crate::schedule::JobTiming::fire_delay`]).
    fire_delay_ms: i64,
    /// Every tick at or before this instant is accounted for (run, recorded or handed to a run).
    cursor_ms: i64,
    /// The next tick the timer is armed for.
    next_tick: Option<i64>,
    running: u32,
    queued: Option<(i64, bool)>,
    /// A manual trigger (tick, trigger id) waiting for the run in progress.
    manual: Option<(i64, i64)>,
    /// The tick of the run started last (the one a tick skipped for overlap overlaps).
    last_run: Option<i64>,
    /// Ticks waiting to run in order: (tick, run as catch-up).
    catch_up: VecDeque<(i64, bool)>,
    /// Ticks after `cursor_ms` that the database already records (the job was taken over with
    /// a hole below its newest recorded tick): the first catch-up plans around them.
    recorded: BTreeSet<i64>,
}

impl Slot {
    /// A run of the job (the tick `tick_ms`, scheduled or manual) is handed out.
    fn start(&mut self, tick_ms: i64) {
        self.running += 1;
        self.last_run = Some(tick_ms);
    }
}

/// The state machine.
#[derive(Debug, Default)]
pub struct SchedulerCore {
    /// Held jobs by key (fresh for every take).
    slots: Slab<Slot>,
    /// The key of each held job id.
    keys: HashMap<String, u64>,
    timers: Timers,
    /// Jobs fired by the last `fire_due` whose next tick is still to be armed.
    fired: Vec<u64>,
    /// Cluster-wide maintenance switch.
    pub cluster_paused: bool,
    /// Recorded ticks announced by [`Self::note_recorded`] for a job about to be taken.
    recorded_before_take: HashMap<String, BTreeSet<i64>>,
}

impl SchedulerCore {
    pub fn new() -> Self {
        Self::default()
    }

    /// When the loop must wake next (database-clock ms).
    pub fn next_deadline(&self) -> Option<i64> {
        self.timers.next_deadline()
    }

    pub fn job_count(&self) -> usize {
        self.slots.len()
    }

    pub fn owns(&self, job_id: &str) -> bool {
        self.keys.contains_key(job_id)
    }

    /// The key a held job is held under: a small number, fresh for every take, that
    /// [`Action`]s carry.
    pub fn key_of(&self, job_id: &str) -> Option<u64> {
        self.keys.get(job_id).copied()
    }

    fn slot(&self, job_id: &str) -> Option<&Slot> {
        self.keys.get(job_id).and_then(|&key| self.slots.get(key))
    }

    fn slot_mut(&mut self, job_id: &str) -> Option<&mut Slot> {
        self.keys
            .get(job_id)
            .and_then(|&key| self.slots.get_mut(key))
    }

    /// The job's spec as held now.
    pub fn spec(&self, job_id: &str) -> Option<&Arc<JobSpec>> {
        self.slot(job_id).map(|s| &s.spec)
    }

    /// (id, version, epoch) of every held job, for reconciling with the database.
    pub fn versions(&self) -> impl Iterator<Item = (&str, i64, i64)> {
        self.slots
            .values()
            .map(|s| (s.spec.id.as_str(), s.spec.version, s.spec.epoch))
    }

    /// The next tick of a held job (for listings).
    pub fn next_tick(&self, job_id: &str) -> Option<i64> {
        self.slot(job_id).and_then(|s| s.next_tick)
    }

    /// Announce, before [`Self::take`], the ticks after its `last_accounted_ms` that the
    /// database already records for `job_id` (a hole lies below the newest recorded tick).
    /// For a job held already (stalled by a database outage), the ticks are used by its next
    /// catch-up ([`Self::catch_up`]).
    pub fn note_recorded(&mut self, job_id: String, ticks: BTreeSet<i64>) {
        match self.slot_mut(&job_id) {
            Some(slot) => slot.recorded = ticks,
            None => {
                self.recorded_before_take.insert(job_id, ticks);
            }
        }
    }

    /// `(job id, cursor)` of every job [`Self::stalled_jobs`] lists: its ticks after the
    /// cursor are re-planned when the database is back.
    pub fn stalled_cursors(&self) -> Vec<(String, i64)> {
        self.stalled_jobs()
            .into_iter()
            .filter_map(|id| {
                let cursor = self.slot(&id)?.cursor_ms;
                Some((id, cursor))
            })
            .collect()
    }

    /// Take a job: ticks after `last_accounted_ms` that are already due follow the misfire
    /// policy; the timer is armed for the first future tick.
    pub fn take(&mut self, spec: Arc<JobSpec>, last_accounted_ms: i64, now_ms: i64) -> Vec<Action> {
        self.remove(&spec.id);
        let cursor = last_accounted_ms.max(spec.anchor_ms);
        let spec_id = spec.id.clone();
        let recorded = self
            .recorded_before_take
            .remove(&spec_id)
            .unwrap_or_default();
        let key = self.slots.insert_with(|key| Slot {
            key,
            overlap: spec.overlap,
            jitter_ms: spec.timing.jitter.as_millis() as i64,
            fire_delay_ms: spec.timing.fire_delay(&spec.id).as_millis() as i64,
            spec,
            cursor_ms: cursor,
            next_tick: None,
            running: 0,
            queued: None,
            manual: None,
            last_run: None,
            catch_up: VecDeque::new(),
            recorded,
        });
        self.keys.insert(spec_id, key);
        self.catch_up_key(key, now_ms, MISFIRE_GRACE_MS)
    }

    /// Apply an edit of a held job (new version, same epoch). A changed schedule or a resume
    /// moves the anchor, which re-arms the timer from it.
    pub fn update(&mut self, spec: Arc<JobSpec>, now_ms: i64) -> Vec<Action> {
        let Some(slot) = self.keys.get(&spec.id).and_then(|&k| self.slots.get_mut(k)) else {
            return Vec::new();
        };
        slot.cursor_ms = slot.cursor_ms.max(spec.anchor_ms);
        slot.spec = spec.clone();
        slot.overlap = spec.overlap;
        slot.jitter_ms = spec.timing.jitter.as_millis() as i64;
        slot.fire_delay_ms = spec.timing.fire_delay(&spec.id).as_millis() as i64;
        let key = slot.key;
        self.timers.disarm(key);
        slot.next_tick = None;
        if spec.paused {
            return Vec::new();
        }
        self.catch_up_key(key, now_ms, MISFIRE_GRACE_MS)
    }

    /// Stop holding a job (deleted, or owned elsewhere now).
    pub fn remove(&mut self, job_id: &str) -> Option<Arc<JobSpec>> {
        let key = self.keys.remove(job_id)?;
        let slot = self.slots.remove(key)?;
        self.timers.disarm(key);
        Some(slot.spec)
    }

    /// Every held job id.
    pub fn job_ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    /// Re-plan a job from its cursor (after it was taken, or after ticks could not be
    /// recorded during a database outage). Ticks late by more than [`MISFIRE_GRACE_MS`] follow
    /// the misfire policy; ticks due within the grace are run as ordinary ticks, in order, so
    /// a handover between replicas costs no tick.
    pub fn catch_up(&mut self, job_id: &str, now_ms: i64) -> Vec<Action> {
        self.catch_up_with_grace(job_id, now_ms, MISFIRE_GRACE_MS)
    }

    /// [`Self::catch_up`] with ticks late by more than `grace_ms` following the misfire policy.
    fn catch_up_with_grace(&mut self, job_id: &str, now_ms: i64, grace_ms: i64) -> Vec<Action> {
        match self.keys.get(job_id) {
            Some(&key) => self.catch_up_key(key, now_ms, grace_ms),
            None => Vec::new(),
        }
    }

    fn catch_up_key(&mut self, key: u64, now_ms: i64, grace_ms: i64) -> Vec<Action> {
        let cluster_paused = self.cluster_paused;
        let Some(slot) = self.slots.get_mut(key) else {
            return Vec::new();
        };
        if slot.spec.paused {
            return Vec::new();
        }
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
        // Taken over with a hole: ticks the database already records are neither run nor
        // recorded again; the policy applies to the unrecorded ones.
        let recorded_ticks = std::mem::take(&mut slot.recorded);
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
        // Recent ticks (within the grace): ordinary runs, in order.
        let mut cursor = late_cutoff;
        while let Some(tick) = spec.timing.next_tick_ms(cursor) {
            if tick > now_ms || slot.catch_up.len() >= MAX_LISTED_MISSED {
                break;
            }
            if !recorded_ticks.contains(&tick) {
                slot.catch_up.push_back((tick, false));
            }
            cursor = tick;
        }
        slot.cursor_ms = cursor.max(late_cutoff);
        if !cluster_paused
            && (slot.running == 0 || spec.overlap == OverlapPolicy::Allow)
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

    fn fire_one(&mut self, key: u64, now_ms: i64, actions: &mut Vec<Action>) {
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

    /// A run of the job ended: start what waits for it (a queued tick, the next catch-up tick).
    pub fn finished(&mut self, job_id: &str) -> Vec<Action> {
        match self.keys.get(job_id) {
            Some(&key) => self.finished_key(key),
            None => Vec::new(),
        }
    }

    /// Whether a job is held under `key` (it was not dropped or re-taken since).
    pub fn holds_key(&self, key: u64) -> bool {
        self.slots.contains(key)
    }

    /// [`Self::finished`] for the job held under `key`.
    pub fn finished_key(&mut self, key: u64) -> Vec<Action> {
        let cluster_paused = self.cluster_paused;
        let Some(slot) = self.slots.get_mut(key) else {
            return Vec::new();
        };
        slot.running = slot.running.saturating_sub(1);
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

    /// A tick could not be recorded (database unavailable): it stays unaccounted, and the job
    /// is re-planned by the misfire policy once the database is back ([`Self::catch_up`]).
    /// `was_run` tells whether the tick was handed out as a run (then it no longer runs).
    pub fn stalled(&mut self, job_id: &str, tick_ms: i64, was_run: bool) {
        if let Some(slot) = self.keys.get(job_id).and_then(|&k| self.slots.get_mut(k)) {
            if was_run {
                slot.running = slot.running.saturating_sub(1);
            }
            slot.cursor_ms = slot.cursor_ms.min(tick_ms - 1);
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
    fn finished_like_idle(&mut self, job_id: &str) -> Vec<Action> {
        match self.slot_mut(job_id) {
            Some(slot) if slot.running == 0 => {
                slot.running = 1;
                self.finished(job_id)
            }
            _ => Vec::new(),
        }
    }
}
