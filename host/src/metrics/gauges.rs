//! Values read at scrape time (owned jobs, live replicas, plugins, settings cache age,
//! database reachability, stale jobs), and the gauges they are shown in.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::family::Labels;

/// Values read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Jobs this replica owns.
    pub owned_jobs: i64,
    /// Replicas with a recent heartbeat.
    pub live_instances: i64,
    /// Plugins loaded / failed to load.
    pub plugins_loaded: i64,
    pub plugins_failed: i64,
    /// Age of the settings cache.
    pub settings_age: Duration,
    /// Whether the database answered the scrape's queries.
    pub database_up: bool,
    /// Jobs of the cluster marked stale (no success for their `stale_after`).
    pub stale_jobs: i64,
}

/// The registered gauges that show [`Gauges`]; set by each scrape just before it encodes.
#[derive(Debug, Default)]
pub struct ScrapeGauges {
    owned_jobs: Gauge,
    live_instances: Gauge,
    plugins: Family<Labels<1>, Gauge>,
    settings_age: Gauge<f64, AtomicU64>,
    database_up: Gauge,
    stale_jobs: Gauge,
}

impl ScrapeGauges {
    /// Register the gauges in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "owned_jobs",
            "Jobs this replica owns",
            self.owned_jobs.clone(),
        );
        registry.register(
            "live_instances",
            "Replicas with a recent heartbeat",
            self.live_instances.clone(),
        );
        registry.register(
            "plugins",
            "Plugins in the plugins directory by state",
            self.plugins.clone(),
        );
        registry.register(
            "settings_cache_age_seconds",
            "Time since the settings cache was last refreshed",
            self.settings_age.clone(),
        );
        registry.register(
            "database_up",
            "1 when the database answered this scrape",
            self.database_up.clone(),
        );
        registry.register(
            "stale_jobs",
            "Jobs of the cluster without a success for their stale_after",
            self.stale_jobs.clone(),
        );
    }

    /// Show `values`.
    pub fn set(&self, values: &Gauges) {
        self.owned_jobs.set(values.owned_jobs);
        self.live_instances.set(values.live_instances);
        self.plugins
            .get_or_create(&[("state", "loaded")])
            .set(values.plugins_loaded);
        self.plugins
            .get_or_create(&[("state", "failed")])
            .set(values.plugins_failed);
        self.settings_age.set(values.settings_age.as_secs_f64());
        self.database_up.set(i64::from(values.database_up));
        self.stale_jobs.set(values.stale_jobs);
    }
}
