//! The watched jobs file. Every replica polls its file's identity (device, inode, size,
//! modification time — following symlinks, so an editor's atomic rename and a Kubernetes
//! ConfigMap `..data` swap are seen alike) a few times a second and reads it again when it
//! changed (once it held for one poll, so a file written in place is not read half
//! written), or when a while has passed.
//!
//! One replica applies: the cluster's leader (the holder of the `housekeeping` lease). It
//! makes the cluster's jobs exactly the file's — the jobs it lists created or updated, the
//! jobs it managed and no longer lists deleted — and nothing when they already are, so an
//! unchanged file changes no job's version. The others only compare their copy with the
//! cluster's jobs and report a difference (a rolling update where replicas briefly see two
//! versions does not flip the jobs back and forth). A file that does not parse or holds an
//! invalid job changes nothing: the last good state stays, and the error is logged, counted,
//! published and shown by the API.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::parse::{JobsFileError, entry_error, parse, read_text};
use super::status::{AppliedVersion, Counts, FileError, FileVersion, SharedStatus};
use crate::clock::DbClock;
use crate::cluster::Leadership;
use crate::events::{Event, Publisher, instant};
use crate::jobs::{Foreign, Jobs, PlanError};
use crate::store::Actor;

/// How often the file's identity is looked at.
const POLL: Duration = Duration::from_millis(200);
/// How often the file is compared with the cluster's jobs when they differ (this replica
/// may become the leader, or the leader may apply meanwhile).
const RECHECK_DIFFERENT: Duration = Duration::from_secs(2);
/// How often it is compared when they matched (a new leader, a job changed in the
/// database by hand).
const RECHECK_SAME: Duration = Duration::from_secs(30);

/// Whether a plugin is loaded on this replica.
pub type PluginLoaded = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A replica's watcher of its jobs file.
pub struct Watcher {
    pub path: PathBuf,
    pub jobs: Jobs,
    pub leadership: Leadership,
    pub clock: DbClock,
    pub events: Publisher,
    pub instance_id: String,
    pub status: SharedStatus,
    pub plugin_loaded: PluginLoaded,
}

/// The file's identity: a change of any part is a change of the file.
type Identity = Option<(u64, u64, u64, i64, i64)>;

fn identity(path: &std::path::Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// What the watcher remembers between passes.
#[derive(Default)]
struct Memory {
    identity: Identity,
    /// A new identity seen once, read if it holds at the next poll.
    settling: Option<Identity>,
    /// The digest of the version last refused (its error is reported once).
    refused: Option<String>,
    /// The digest last found matching the cluster's jobs.
    matched: Option<String>,
}

impl Watcher {
    /// The file's path, as the jobs it manages name it.
    fn source(&self) -> String {
        self.path.display().to_string()
    }

    /// Watch until `stop` resolves.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let source = self.source();
        self.status.update(|s| s.path = source.clone());
        let mut memory = Memory::default();
        let mut next = Instant::now();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = poll.tick() => {}
            }
            let now = identity(&self.path);
            let changed = now != memory.identity;
            // A changed file is read once its identity held for one poll: a file written in
            // place is not read half written.
            if changed && memory.settling != Some(now) {
                memory.settling = Some(now);
                continue;
            }
            if !changed && Instant::now() < next {
                continue;
            }
            memory.settling = None;
            memory.identity = now;
            let again = self.pass(&mut memory, changed).await;
            next = Instant::now() + again;
        }
    }

    /// Read, compare and (as leader) apply once; how long until the next pass unless the
    /// file changes.
    async fn pass(&self, memory: &mut Memory, changed: bool) -> Duration {
        let source = self.source();
        let text = match read_text(&self.path) {
            Ok(text) => text,
            Err(e) => {
                self.refuse(memory, None, &e);
                return RECHECK_DIFFERENT;
            }
        };
        let now = instant(self.clock.now_ms());
        self.status.update(|s| {
            s.read = Some(FileVersion {
                digest: text.digest.clone(),
                at: now.clone(),
            })
        });
        let desired = match parse(&text.text, &source) {
            Ok((_, desired)) => desired,
            Err(e) => {
                self.refuse(memory, Some(&text.digest), &e);
                return RECHECK_DIFFERENT;
            }
        };
        let warnings: Vec<String> = desired
            .iter()
            .filter(|job| !(self.plugin_loaded)(&job.plugin))
            .map(|job| {
                format!(
                    "job {:?}: plugin {:?} is not loaded (yet); its runs fail until it is",
                    job.name, job.plugin
                )
            })
            .collect();
        let leader = self.leadership.confirmed().await.is_some();
        let plan = match self
            .jobs
            .plan(&source, desired, true, Foreign::Refuse)
            .await
        {
            Ok(plan) => plan,
            Err(PlanError::Entry(e)) => {
                let e = entry_error(&source, &text.text, e);
                self.refuse(memory, Some(&text.digest), &e);
                return RECHECK_DIFFERENT;
            }
            Err(PlanError::Job(e)) => {
                tracing::warn!(error = %e, file = %source, "cannot compare the jobs file with the cluster's jobs; trying again");
                return RECHECK_DIFFERENT;
            }
        };
        let valid_again = memory.refused.take().is_some();
        if valid_again {
            tracing::info!(file = %source, "jobs file valid again");
        }
        let (create, update, delete) = plan.counts();
        let counts = Counts {
            create,
            update,
            delete,
        };
        let mut applied = None;
        if leader && counts != Counts::default() {
            if let Err(e) = self.jobs.apply(&plan, &Actor::JobsFile).await {
                tracing::warn!(error = %e, file = %source, "applying the jobs file failed part way; applying again");
                return RECHECK_DIFFERENT;
            }
            tracing::info!(file = %source, digest = %text.digest, created = create, updated = update, deleted = delete, "jobs file applied");
            crate::metrics::global().jobs_file_read("applied");
            self.events.publish(Event::JobsFileApplied {
                path: source.clone(),
                digest: text.digest.clone(),
                created: create,
                updated: update,
                deleted: delete,
                instance_id: self.instance_id.clone(),
            });
            applied = Some(counts);
        } else if counts == Counts::default() {
            if changed {
                crate::metrics::global().jobs_file_read("unchanged");
            }
            if valid_again {
                // Back to a version already applied: nothing changes, but the refusal is over.
                self.events.publish(Event::JobsFileApplied {
                    path: source.clone(),
                    digest: text.digest.clone(),
                    created: 0,
                    updated: 0,
                    deleted: 0,
                    instance_id: self.instance_id.clone(),
                });
            }
            applied = Some(Counts::default());
        } else if changed {
            crate::metrics::global().jobs_file_read("unchanged");
            tracing::info!(file = %source, digest = %text.digest, create, update, delete, "jobs file differs from the cluster's jobs; the leader applies its copy");
        }
        let in_sync = applied.is_some();
        let now = instant(self.clock.now_ms());
        let first_match = in_sync && memory.matched.as_deref() != Some(text.digest.as_str());
        if in_sync {
            memory.matched = Some(text.digest.clone());
        }
        self.status.update(|s| {
            s.applier = leader;
            s.error = None;
            s.warnings = warnings;
            s.in_sync = Some(in_sync);
            s.pending = (!in_sync).then_some(counts);
            s.checked_at = Some(now.clone());
            if let Some(changes) = applied
                && (first_match || changes != Counts::default())
            {
                s.applied = Some(AppliedVersion {
                    digest: text.digest.clone(),
                    at: now.clone(),
                    changes,
                });
            }
        });
        if in_sync {
            RECHECK_SAME
        } else {
            RECHECK_DIFFERENT
        }
    }

    /// A version (of `digest`, when it could be read) is refused: nothing of it applies.
    fn refuse(&self, memory: &mut Memory, digest: Option<&str>, error: &JobsFileError) {
        let key = digest.unwrap_or("unreadable").to_owned();
        let now = instant(self.clock.now_ms());
        self.status.update(|s| {
            s.in_sync = None;
            s.pending = None;
            s.error = Some(file_error(error, digest, now));
        });
        if memory.refused.as_deref() == Some(key.as_str()) {
            return;
        }
        memory.refused = Some(key);
        // Whatever was matched before, the next valid version is compared afresh.
        memory.matched = None;
        tracing::error!(error = %error, "jobs file refused; the jobs stay as they are");
        crate::metrics::global().jobs_file_read("refused");
        self.events.publish(Event::JobsFileRefused {
            path: self.source(),
            digest: digest.map(str::to_owned),
            error: error.to_string(),
            instance_id: self.instance_id.clone(),
        });
    }
}

/// The API's view of `error`.
fn file_error(error: &JobsFileError, digest: Option<&str>, at: String) -> FileError {
    let mut view = FileError {
        message: error.to_string(),
        digest: digest.map(str::to_owned),
        line: None,
        column: None,
        entry: None,
        name: None,
        field: None,
        at,
    };
    match error {
        JobsFileError::Unreadable { .. } => {}
        JobsFileError::Syntax { line, column, .. } => {
            (view.line, view.column) = (*line, *column);
        }
        JobsFileError::Entry {
            line,
            index,
            name,
            field,
            ..
        } => {
            view.line = *line;
            view.entry = Some(*index);
            view.name = name.clone();
            view.field = Some(field.clone());
        }
    }
    view
}
