//! Prometheus metrics: a small hand-written registry (counters, labelled counters,
//! histograms) in one process-wide [`Metrics`], rendered in the text exposition format by
//! `/metrics`. Hooks elsewhere are one call each (`crate::metrics::global().run_finished(…)`);
//! values that can be read at scrape time (owned jobs, live instances, plugins, settings cache
//! age) are passed to [`Metrics::render`] as [`Gauges`].

mod histogram;
mod labelled;

use std::fmt::Write;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use histogram::Histogram;
pub use labelled::LabelledCounter;

/// Run duration buckets (seconds).
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Fire-lateness buckets (seconds).
const LATENESS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// Every metric this process counts.
#[derive(Debug)]
pub struct Metrics {
    ticks_fired: AtomicU64,
    runs: LabelledCounter<1>,
    not_run: LabelledCounter<2>,
    run_duration: Histogram,
    fire_lateness: Histogram,
    claims: AtomicU64,
    handoffs: AtomicU64,
    fencing: LabelledCounter<1>,
    plugin_load_errors: AtomicU64,
    manual_triggers: AtomicU64,
    events_published: AtomicU64,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

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
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry (tests; the process uses [`global`]).
    pub fn new() -> Self {
        Metrics {
            ticks_fired: AtomicU64::new(0),
            runs: LabelledCounter::new(["status"]),
            not_run: LabelledCounter::new(["status", "reason"]),
            run_duration: Histogram::new(DURATION_BUCKETS),
            fire_lateness: Histogram::new(LATENESS_BUCKETS),
            claims: AtomicU64::new(0),
            handoffs: AtomicU64::new(0),
            fencing: LabelledCounter::new(["what"]),
            plugin_load_errors: AtomicU64::new(0),
            manual_triggers: AtomicU64::new(0),
            events_published: AtomicU64::new(0),
        }
    }

    /// A tick fired (its run was recorded and is starting); `lateness` is how long after its
    /// scheduled instant.
    pub fn tick_fired(&self, lateness: Duration) {
        self.ticks_fired.fetch_add(1, Ordering::Relaxed);
        self.fire_lateness.observe(lateness.as_secs_f64());
    }

    /// A tick fired, its lateness measured against this process's clock.
    pub fn tick_fired_at(&self, scheduled_at_ms: i64) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(scheduled_at_ms);
        self.tick_fired(Duration::from_millis(
            (now_ms - scheduled_at_ms).max(0) as u64
        ));
    }

    /// A run ended with `status` (`succeeded`, `failed`, `timed_out`) after `duration`.
    pub fn run_finished(&self, status: &str, duration: Duration) {
        self.runs.add([status], 1);
        self.run_duration.observe(duration.as_secs_f64());
    }

    /// `count` ticks were recorded without running (`missed` or `skipped`, with a reason).
    pub fn ticks_not_run(&self, status: &str, reason: &str, count: u64) {
        self.not_run.add([status, reason], count);
        self.runs.add([status], count);
    }

    /// This replica claimed `count` jobs.
    pub fn claimed(&self, count: u64) {
        self.claims.fetch_add(count, Ordering::Relaxed);
    }

    /// This replica handed `count` jobs over (released them).
    pub fn handed_off(&self, count: u64) {
        self.handoffs.fetch_add(count, Ordering::Relaxed);
    }

    /// A write was refused because ownership moved on (`what`: `begin`, `finish`, `state`,
    /// `record`).
    pub fn fenced(&self, what: &str) {
        self.fencing.add([what], 1);
    }

    /// A plugin failed to load.
    pub fn plugin_load_failed(&self) {
        self.plugin_load_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// A manual trigger was accepted.
    pub fn manual_trigger(&self) {
        self.manual_triggers.fetch_add(1, Ordering::Relaxed);
    }

    /// An event was persisted.
    pub fn event_published(&self) {
        self.events_published.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition (format 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        let _ = writeln!(
            out,
            "# HELP wasmcron_build_info Version of this replica.\n# TYPE wasmcron_build_info gauge\nwasmcron_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        counter(
            &mut out,
            "wasmcron_ticks_fired_total",
            "Ticks whose run was recorded and started by this replica.",
            self.ticks_fired.load(Ordering::Relaxed),
        );
        self.runs.render(
            &mut out,
            "wasmcron_runs_total",
            "Recorded ticks by final status.",
        );
        self.not_run.render(
            &mut out,
            "wasmcron_ticks_not_run_total",
            "Ticks recorded missed or skipped, by reason.",
        );
        self.run_duration.render(
            &mut out,
            "wasmcron_run_duration_seconds",
            "Wall-clock duration of plugin runs.",
        );
        self.fire_lateness.render(
            &mut out,
            "wasmcron_fire_lateness_seconds",
            "How long after its scheduled instant a tick started.",
        );
        gauge(
            &mut out,
            "wasmcron_owned_jobs",
            "Jobs this replica owns.",
            gauges.owned_jobs as f64,
        );
        gauge(
            &mut out,
            "wasmcron_live_instances",
            "Replicas with a recent heartbeat.",
            gauges.live_instances as f64,
        );
        counter(
            &mut out,
            "wasmcron_job_claims_total",
            "Jobs this replica claimed.",
            self.claims.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "wasmcron_job_handoffs_total",
            "Jobs this replica released to peers.",
            self.handoffs.load(Ordering::Relaxed),
        );
        self.fencing.render(
            &mut out,
            "wasmcron_fencing_events_total",
            "Writes refused because the job's ownership moved on.",
        );
        counter(
            &mut out,
            "wasmcron_plugin_load_errors_total",
            "Plugin loads that failed.",
            self.plugin_load_errors.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP wasmcron_plugins Plugins in the plugins directory by state.\n# TYPE wasmcron_plugins gauge\nwasmcron_plugins{{state=\"loaded\"}} {}\nwasmcron_plugins{{state=\"failed\"}} {}",
            gauges.plugins_loaded, gauges.plugins_failed
        );
        gauge(
            &mut out,
            "wasmcron_settings_cache_age_seconds",
            "Time since the settings cache was last refreshed.",
            gauges.settings_age.as_secs_f64(),
        );
        counter(
            &mut out,
            "wasmcron_manual_triggers_total",
            "Manual triggers accepted by this replica.",
            self.manual_triggers.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "wasmcron_events_published_total",
            "Events persisted by this replica.",
            self.events_published.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "wasmcron_database_up",
            "1 when the database answered this scrape.",
            if gauges.database_up { 1.0 } else { 0.0 },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_labels() {
        let m = Metrics::new();
        m.tick_fired(Duration::from_millis(3));
        m.run_finished("succeeded", Duration::from_millis(20));
        m.run_finished("failed", Duration::from_secs(2));
        m.ticks_not_run("missed", "catchup_window", 4);
        m.fenced("finish");
        let text = m.render(&Gauges {
            owned_jobs: 2,
            database_up: true,
            ..Gauges::default()
        });
        assert!(text.contains("wasmcron_ticks_fired_total 1\n"), "{text}");
        assert!(text.contains("wasmcron_runs_total{status=\"succeeded\"} 1\n"));
        assert!(text.contains("wasmcron_runs_total{status=\"missed\"} 4\n"));
        assert!(text.contains(
            "wasmcron_ticks_not_run_total{status=\"missed\",reason=\"catchup_window\"} 4\n"
        ));
        assert!(text.contains("wasmcron_run_duration_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("wasmcron_run_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("wasmcron_run_duration_seconds_count 2\n"));
        assert!(text.contains("wasmcron_fire_lateness_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("wasmcron_fencing_events_total{what=\"finish\"} 1\n"));
        assert!(text.contains("wasmcron_owned_jobs 2\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
        }
    }
}
