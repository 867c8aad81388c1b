//! What the API's handlers share: narrow handles on the parts of the replica they use, never
//! the replica itself.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::DbClock;
use crate::cluster::Health;
use crate::events::{EventHub, Publisher};
use crate::jobs::Jobs;
use crate::jobs_file::SharedStatus;
use crate::runtime::PluginDir;
use crate::settings::SettingsCache;
use crate::store::Store;

/// Facts about the replica serving the API.
#[derive(Clone, Debug)]
pub struct ReplicaInfo {
    /// This replica's instance id.
    pub instance_id: String,
    /// The bootstrap admin token; `None`: the API is open.
    pub api_token: Option<String>,
    /// After how long without a heartbeat a replica counts as dead.
    pub dead_after: Duration,
}

/// State of the router.
#[derive(Clone, Debug)]
pub struct ApiState {
    pub info: Arc<ReplicaInfo>,
    pub store: Store,
    pub jobs: Jobs,
    pub settings: SettingsCache,
    pub plugins: Arc<PluginDir>,
    pub health: Arc<Health>,
    pub clock: DbClock,
    pub hub: Arc<EventHub>,
    /// Where this replica publishes events.
    pub events: Publisher,
    /// What this replica knows of its jobs file.
    pub jobs_file: SharedStatus,
    /// When named tokens were last recorded as used.
    pub token_uses: Arc<super::auth::TokenUses>,
    /// Failed tokens and open event streams, per client.
    pub limits: Arc<super::limits::ClientLimits>,
}
