//! Which end-to-end tests may run at the same time.
//!
//! The tests share one process and, on the project's machines, two cores. A test that starts
//! several replicas, or measures how fast something happens, runs [`alone`]; the others run
//! [`beside_others`] of their kind, never beside one that runs alone. A test holds its turn
//! for its whole body (`let _turn = turns::alone().await;`); a test that fails gives it back.

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::const_new(());

/// The whole machine, for a test that starts several replicas or measures latencies.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().await
}

/// A share of the machine, for a light test (one replica, no timing bound).
pub async fn beside_others() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().await
}

/// [`alone`] for a test that is not async.
pub fn alone_blocking() -> RwLockWriteGuard<'static, ()> {
    MACHINE.blocking_write()
}
