//! What the API's handlers share: the replica, the event hub, the trigger worker's wake-up.

use std::sync::Arc;

use axum::extract::FromRef;
use tokio::sync::Notify;

use crate::events::EventHub;
use crate::replica::Replica;

/// State of the router.
#[derive(Clone, Debug)]
pub struct ApiState {
    pub replica: Arc<Replica>,
    pub hub: Arc<EventHub>,
    /// Wakes this replica's manual-trigger worker.
    pub triggers: Arc<Notify>,
    /// When named tokens were last recorded as used.
    pub token_uses: Arc<super::auth::TokenUses>,
}

impl FromRef<ApiState> for Arc<Replica> {
    fn from_ref(state: &ApiState) -> Self {
        state.replica.clone()
    }
}
