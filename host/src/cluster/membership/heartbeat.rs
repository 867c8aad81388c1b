//! The heartbeat: an upsert stamped by the database clock, through the replica's database
//! session where the engine has one (PostgreSQL: the session whose end tells peers at once
//! that this replica crashed, see [`crate::store::session`]), through the pool otherwise.

use super::Membership;
use crate::store::StoreError;

impl Membership {
    /// Heartbeat through the session (PostgreSQL), reopening it when it was lost; through the
    /// pool on SQLite.
    pub(super) async fn heartbeat(&self) -> Result<i64, StoreError> {
        let id = &self.options.instance_id;
        let version = env!("CARGO_PKG_VERSION");
        let mut session = self.shared.session.lock().await;
        for attempt in 0..2 {
            if session.is_none() {
                match self.store.open_session(id).await? {
                    Some(opened) => *session = Some(opened),
                    None => {
                        return self
                            .store
                            .heartbeat(id, &self.options.address, version)
                            .await;
                    }
                }
            }
            let s = session.as_mut().expect("session");
            match s.heartbeat(&self.options.address, version).await {
                Ok(now) => return Ok(now),
                Err(e) => {
                    // The session is gone (or stuck): drop it and open a new one.
                    if let Some(old) = session.take() {
                        tokio::spawn(old.close());
                    }
                    if attempt == 1 {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "database session lost; opening a new one");
                }
            }
        }
        unreachable!("the loop returns")
    }
}
