//! The scheduler's state machine: which ticks of which owned jobs are due, and what to do
//! with each (run, skip, queue, record missed). It performs no I/O; the [`super::Scheduler`]
//! loop executes the [`Action`]s it returns. Time is passed in (database-clock milliseconds),
//! so every policy is testable with a controlled clock.
//!
//! - this file: the held jobs (take, update, remove) and what the loop asks of them;
//! - [`firing`]: due ticks, the overlap policy, manual triggers, runs that end;
//! - [`catch_up`]: what a job owes from its cursor, by the misfire policy.

mod catch_up;
mod firing;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use super::slab::Slab;
use super::timers::Timers;
use crate::jobs::JobSpec;
use crate::schedule::OverlapPolicy;
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
    /// Skipped: waiting to run (queued behind a run, or in a catch-up) when an edit of the
    /// schedule (or a resume) moved the job's anchor past it.
    Edited,
}

impl NotRun {
    /// The run status the tick is recorded with.
    pub fn status(self) -> RunStatus {
        match self {
            NotRun::Overlap | NotRun::Edited => RunStatus::Skipped,
            NotRun::Misfire | NotRun::CatchupWindow => RunStatus::Missed,
        }
    }

    /// The reason recorded with it.
    pub fn reason(self) -> RunReason {
        match self {
            NotRun::Overlap => RunReason::Overlap,
            NotRun::Misfire => RunReason::Misfire,
            NotRun::CatchupWindow => RunReason::CatchupWindow,
            NotRun::Edited => RunReason::Edited,
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
    /// Wait for a planned attempt of a tick to come due, then run it (it counts as a run of
    /// the job from now on).
    Retry {
        job: Arc<JobSpec>,
        /// The key the job is held under ([`SchedulerCore::key_of`]).
        key: u64,
        tick_ms: i64,
        attempt: i32,
        catch_up: bool,
        manual: bool,
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
    /// Ticks handed to runs that have not ended: recorded, or about to be (the record on its
    /// way). A catch-up after an outage, which moves the cursor back below them, plans around
    /// them; a run whose record fails ends stalled and moves the cursor back below its own tick.
    handed_out: BTreeSet<i64>,
}

impl Slot {
    /// A run of the job (the tick `tick_ms`, scheduled or manual) is handed out.
    fn start(&mut self, tick_ms: i64) {
        self.running += 1;
        self.last_run = Some(tick_ms);
        self.handed_out.insert(tick_ms);
    }

    /// The ticks after the cursor that a catch-up must neither run nor record: recorded
    /// already, or handed to a run that has not ended.
    fn accounted_after_cursor(&self) -> BTreeSet<i64> {
        let after = self.cursor_ms.saturating_add(1);
        let mut ticks: BTreeSet<i64> = self.recorded.range(after..).copied().collect();
        ticks.extend(self.handed_out.range(after..));
        ticks
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

    /// The ticks after its cursor that the database recorded anyway for a held job stalled by
    /// a database outage: its next catch-up ([`Self::catch_up`]) plans around them. (A job
    /// taken with a hole gets its recorded ticks with the take, [`Self::take_around`].)
    pub fn note_recorded(&mut self, job_id: &str, ticks: BTreeSet<i64>) {
        if let Some(slot) = self.slot_mut(job_id) {
            slot.recorded = ticks;
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
        self.take_around(spec, last_accounted_ms, BTreeSet::new(), now_ms)
    }

    /// [`Self::take`] a job whose ticks `recorded`, after `last_accounted_ms`, the database
    /// records already (a hole lies below its newest recorded tick): its first catch-up plans
    /// around them. Whatever the job held here before (under an older epoch) is replaced.
    pub fn take_around(
        &mut self,
        spec: Arc<JobSpec>,
        last_accounted_ms: i64,
        recorded: BTreeSet<i64>,
        now_ms: i64,
    ) -> Vec<Action> {
        self.remove(&spec.id);
        let cursor = last_accounted_ms.max(spec.anchor_ms);
        let spec_id = spec.id.clone();
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
            handed_out: BTreeSet::new(),
        });
        self.keys.insert(spec_id, key);
        self.catch_up_key(key, now_ms, MISFIRE_GRACE_MS)
    }

    /// Apply an edit of a held job (new version, same epoch). A changed schedule or a resume
    /// moves the anchor, which re-arms the timer from it; the ticks at or before the new anchor
    /// still waiting to run here (queued behind a run, in a catch-up, or due and not handed
    /// out yet) belong to the schedule before and are recorded skipped ([`NotRun::Edited`])
    /// rather than run or forgotten — held only in memory, they would be lost with this
    /// replica, and the next owner, reading the new schedule, could not find them.
    pub fn update(&mut self, spec: Arc<JobSpec>, now_ms: i64) -> Vec<Action> {
        let Some(slot) = self.keys.get(&spec.id).and_then(|&k| self.slots.get_mut(k)) else {
            return Vec::new();
        };
        let mut superseded = Vec::new();
        if spec.anchor_ms > slot.spec.anchor_ms {
            if slot.queued.is_some_and(|(t, _)| t <= spec.anchor_ms) {
                superseded.extend(slot.queued.take().map(|(t, _)| t));
            }
            slot.catch_up.retain(|&(t, _)| {
                let before = t <= spec.anchor_ms;
                if before {
                    superseded.push(t);
                }
                !before
            });
            // And the ticks of the schedule before that came due but were never handed out
            // (stalled by a database outage, or a timer about to fire): unaccounted, and
            // behind the new anchor, they would be passed over without a record.
            if !slot.spec.paused {
                let upto = spec.anchor_ms.min(now_ms);
                let accounted = slot.accounted_after_cursor();
                let mut after = slot.cursor_ms;
                while superseded.len() < MAX_LISTED_MISSED {
                    match slot.spec.timing.next_tick_ms(after) {
                        Some(tick) if tick <= upto => {
                            if !accounted.contains(&tick) {
                                superseded.push(tick);
                            }
                            after = tick;
                        }
                        _ => break,
                    }
                }
            }
            superseded.sort_unstable();
            superseded.dedup();
        }
        slot.cursor_ms = slot.cursor_ms.max(spec.anchor_ms);
        slot.spec = spec.clone();
        slot.overlap = spec.overlap;
        slot.jitter_ms = spec.timing.jitter.as_millis() as i64;
        slot.fire_delay_ms = spec.timing.fire_delay(&spec.id).as_millis() as i64;
        let key = slot.key;
        self.timers.disarm(key);
        slot.next_tick = None;
        let mut actions = Vec::new();
        if !superseded.is_empty() {
            actions.push(Action::Record {
                job: spec.clone(),
                key,
                ticks: superseded
                    .into_iter()
                    .map(|t| (t, NotRun::Edited))
                    .collect(),
                unlisted_missed: 0,
                unlisted_range: None,
                after_run: None,
            });
        }
        if spec.paused {
            return actions;
        }
        actions.extend(self.catch_up_key(key, now_ms, MISFIRE_GRACE_MS));
        actions
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
}
