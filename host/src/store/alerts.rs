//! The alert outbox: one row per alert and webhook, written once for the cluster and
//! delivered once.
//!
//! An alert is enqueued under a key naming its fact and its webhook (`dedup_key`), so every
//! replica that observes the same fact may enqueue it: one row is written. Replicas claim
//! due rows with a lease (database clock); only the holder of a claim records its outcome,
//! so a replica whose lease ran out cannot overwrite the one that took the row over. The
//! rows of one job and webhook are handed out oldest first, one at a time: a row waits while
//! an older one of its chain is pending (claimed or waiting out its backoff).

use std::fmt;
use std::str::FromStr;

use super::Store;
use super::error::StoreError;

/// An alert to enqueue for one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// Names the fact and the webhook: a second enqueue with the same key writes nothing.
    pub dedup_key: String,
    /// The event name (`run.failed`, …).
    pub event: String,
    /// The job's id, `None` for an alert about no job (`plugin.failed`).
    pub job_id: Option<String>,
    /// The job's name.
    pub job_name: Option<String>,
    /// The webhook's key (see the alerts module).
    pub target: String,
    /// The webhook's host, the only part of its URL shown in listings.
    pub host: String,
    /// The JSON body.
    pub body: String,
}

/// A delivery claimed by this replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedAlert {
    /// Row id.
    pub id: i64,
    /// The claim: what [`Store::settle_alert`] must name.
    pub claim: i64,
    /// The event name.
    pub event: String,
    /// The webhook's key.
    pub target: String,
    /// The JSON body.
    pub body: String,
    /// Delivery attempts made before this one.
    pub attempts: i32,
    /// When the alert was enqueued (database clock).
    pub created_at_ms: i64,
}

/// How a claimed delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    /// The receiver accepted it.
    Delivered,
    /// It failed: try again `delay_ms` from now (database clock).
    Retry { error: String, delay_ms: i64 },
    /// It failed for good.
    GiveUp { error: String },
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    /// Waiting for its (next) attempt, or being delivered.
    Pending,
    /// Accepted by the receiver.
    Delivered,
    /// Failed for longer than the retry window, or its webhook is no longer configured.
    GivenUp,
}

impl AlertState {
    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Delivered => "delivered",
            AlertState::GivenUp => "given_up",
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(AlertState::Pending),
            "delivered" => Ok(AlertState::Delivered),
            "given_up" => Ok(AlertState::GivenUp),
            other => Err(format!("unknown alert state {other:?}")),
        }
    }
}

/// One delivery as listed (`GET /api/v1/alerts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDelivery {
    /// Row id.
    pub id: i64,
    /// The event name.
    pub event: String,
    /// The job's id.
    pub job_id: Option<String>,
    /// The job's name.
    pub job_name: Option<String>,
    /// The webhook's host.
    pub host: String,
    /// Where it stands.
    pub state: AlertState,
    /// Delivery attempts made.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at_ms: i64,
    /// When its next attempt is due (pending ones).
    pub next_at_ms: i64,
    /// When it was delivered or given up.
    pub done_at_ms: Option<i64>,
}

impl Store {
    /// Writes `alert` unless an alert with its key exists; true when written.
    pub async fn enqueue_alert(&self, alert: &NewAlert) -> Result<bool, StoreError> {
        self.bounded(self.driver.enqueue_alert(alert)).await
    }

    /// Claims up to `limit` due deliveries for `holder` for `lease_ms` (database clock): at
    /// most one per job and webhook, each the oldest pending of its chain, none whose lease
    /// is still held by a live replica (a replica is live while its heartbeat is younger than
    /// `dead_after_ms`): a crashed replica's deliveries are taken over once it is seen dead,
    /// not only when their lease runs out.
    pub async fn claim_alerts(
        &self,
        holder: &str,
        lease_ms: i64,
        dead_after_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedAlert>, StoreError> {
        self.bounded(self.driver.claim_alerts(
            holder,
            lease_ms.max(1),
            dead_after_ms.max(1),
            limit.max(1),
        ))
        .await
    }

    /// Records how a claimed delivery ended, if the claim is still the row's; false when
    /// another replica took it over (or it was settled already).
    pub async fn settle_alert(
        &self,
        id: i64,
        claim: i64,
        outcome: &AlertOutcome,
    ) -> Result<bool, StoreError> {
        self.bounded(self.driver.settle_alert(id, claim, outcome))
            .await
    }

    /// The newest `limit` deliveries, newest first.
    pub async fn recent_alerts(&self, limit: i64) -> Result<Vec<AlertDelivery>, StoreError> {
        self.bounded(self.driver.recent_alerts(limit.clamp(1, 1000)))
            .await
    }

    /// Deletes deliveries settled before `cutoff_ms`; returns how many.
    pub async fn prune_alerts(&self, cutoff_ms: i64) -> Result<u64, StoreError> {
        self.bounded(self.driver.prune_alerts(cutoff_ms)).await
    }
}
