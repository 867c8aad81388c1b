//! The audit log: one row per change to a job, a setting or an API token, saying who made
//! it, what it was, on what, when (database clock) and the changed fields before and after.
//!
//! A change is recorded right after it is stored, by the code that made it (`jobs::Jobs`, the
//! settings and token routes of the API), in a statement of its own: a replica that stops
//! between the two writes leaves the change without its entry (see the README).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Store;
use super::error::StoreError;

/// Most entries one listing returns.
pub const AUDIT_PAGE_LIMIT: i64 = 1000;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A named API token (its name).
    Token(String),
    /// The bootstrap admin token (`WASMCRON_API_TOKEN`).
    Bootstrap,
    /// A request to an API that requires no token.
    Anonymous,
    /// The host itself (pausing a job after failures).
    System,
    /// The jobs file a replica was started with.
    JobsFile,
}

impl Actor {
    /// The actor as recorded: the token's name, or `bootstrap`, `anonymous`, `system`,
    /// `jobs-file`.
    pub fn as_str(&self) -> &str {
        match self {
            Actor::Token(name) => name,
            Actor::Bootstrap => "bootstrap",
            Actor::Anonymous => "anonymous",
            Actor::System => "system",
            Actor::JobsFile => "jobs-file",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a change was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    /// A job was created.
    #[serde(rename = "job.created")]
    JobCreated,
    /// A job's fields were edited.
    #[serde(rename = "job.updated")]
    JobUpdated,
    /// A job was deleted.
    #[serde(rename = "job.deleted")]
    JobDeleted,
    /// A job was paused (by hand or after failures).
    #[serde(rename = "job.paused")]
    JobPaused,
    /// A job was resumed.
    #[serde(rename = "job.resumed")]
    JobResumed,
    /// A manual trigger of a job was accepted.
    #[serde(rename = "job.triggered")]
    JobTriggered,
    /// A setting was set.
    #[serde(rename = "setting.set")]
    SettingSet,
    /// A setting was reset to its default.
    #[serde(rename = "setting.reset")]
    SettingReset,
    /// An API token was created.
    #[serde(rename = "token.created")]
    TokenCreated,
    /// An API token was revoked.
    #[serde(rename = "token.revoked")]
    TokenRevoked,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::JobCreated,
        AuditAction::JobUpdated,
        AuditAction::JobDeleted,
        AuditAction::JobPaused,
        AuditAction::JobResumed,
        AuditAction::JobTriggered,
        AuditAction::SettingSet,
        AuditAction::SettingReset,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
    ];

    /// The action as recorded (`job.created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::JobCreated => "job.created",
            AuditAction::JobUpdated => "job.updated",
            AuditAction::JobDeleted => "job.deleted",
            AuditAction::JobPaused => "job.paused",
            AuditAction::JobResumed => "job.resumed",
            AuditAction::JobTriggered => "job.triggered",
            AuditAction::SettingSet => "setting.set",
            AuditAction::SettingReset => "setting.reset",
            AuditAction::TokenCreated => "token.created",
            AuditAction::TokenRevoked => "token.revoked",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown audit action {s:?}"))
    }
}

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    /// Who made it.
    pub actor: Actor,
    /// What it was.
    pub action: AuditAction,
    /// The job's id, for a job.
    pub job_id: Option<String>,
    /// The job's name, the setting's key or the token's name.
    pub target: String,
    /// The changed fields before (`None`: nothing before, as for a creation).
    pub before: Option<serde_json::Value>,
    /// The changed fields after (`None`: nothing after, as for a deletion).
    pub after: Option<serde_json::Value>,
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Row id: entries are listed newest (highest) first.
    pub id: i64,
    /// When it was recorded (database clock).
    pub at_ms: i64,
    /// Who made it, as recorded (see [`Actor::as_str`]).
    pub actor: String,
    /// What it was.
    pub action: AuditAction,
    /// The job's id, for a job.
    pub job_id: Option<String>,
    /// The job's name, the setting's key or the token's name.
    pub target: String,
    /// The changed fields before.
    pub before: Option<serde_json::Value>,
    /// The changed fields after.
    pub after: Option<serde_json::Value>,
}

/// Which entries a listing returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Only a job's entries: its id, or its name as recorded.
    pub job: Option<String>,
    /// Only one actor's entries.
    pub actor: Option<String>,
}

/// One keyset page of a listing: entries older (lower id) than `before`, newest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AuditPage {
    /// At most this many (clamped to 1..=[`AUDIT_PAGE_LIMIT`]).
    pub limit: i64,
    /// Only entries with a lower id.
    pub before: Option<i64>,
}

impl Store {
    /// Records a change (at the database's now).
    pub async fn record_audit(&self, entry: &NewAudit) -> Result<(), StoreError> {
        self.bounded(self.driver.record_audit(entry)).await
    }

    /// Records changes in order (at the database's now), in one transaction.
    pub async fn record_audits(&self, entries: &[NewAudit]) -> Result<(), StoreError> {
        self.bounded(self.driver.record_audits(entries)).await
    }

    /// The entries matching `filter`, one keyset page, newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: &AuditPage,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let page = AuditPage {
            limit: page.limit.clamp(1, AUDIT_PAGE_LIMIT),
            before: page.before,
        };
        self.bounded(self.driver.list_audit(filter, &page)).await
    }

    /// Deletes entries recorded before `cutoff_ms`; returns how many.
    pub async fn prune_audit(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.prune_audit(cutoff_ms)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_as_written() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                serde_json::json!(action.as_str())
            );
        }
        assert!("job.renamed".parse::<AuditAction>().is_err());
    }

    #[test]
    fn actors_are_recorded_by_name() {
        assert_eq!(Actor::Token("ci".into()).as_str(), "ci");
        assert_eq!(Actor::Bootstrap.as_str(), "bootstrap");
        assert_eq!(Actor::Anonymous.as_str(), "anonymous");
        assert_eq!(Actor::System.as_str(), "system");
        assert_eq!(Actor::JobsFile.as_str(), "jobs-file");
    }
}
