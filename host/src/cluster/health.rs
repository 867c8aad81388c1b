//! What `/healthz` and `/readyz` report.

use std::sync::atomic::{AtomicBool, Ordering};

/// Readiness conditions of a replica.
#[derive(Debug, Default)]
pub struct Health {
    database: AtomicBool,
    registered: AtomicBool,
    plugins_loaded: AtomicBool,
}

impl Health {
    pub fn set_database(&self, ok: bool) -> bool {
        self.database.swap(ok, Ordering::Relaxed)
    }
    pub fn set_registered(&self) {
        self.registered.store(true, Ordering::Relaxed);
    }
    pub fn set_plugins_loaded(&self) {
        self.plugins_loaded.store(true, Ordering::Relaxed);
    }
    pub fn database(&self) -> bool {
        self.database.load(Ordering::Relaxed)
    }

    /// `None` when ready; otherwise what is missing.
    pub fn not_ready(&self) -> Option<&'static str> {
        if !self.database.load(Ordering::Relaxed) {
            Some("database unreachable")
        } else if !self.registered.load(Ordering::Relaxed) {
            Some("not registered yet")
        } else if !self.plugins_loaded.load(Ordering::Relaxed) {
            Some("plugins not loaded yet")
        } else {
            None
        }
    }
}
