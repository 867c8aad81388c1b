//! The kinds of events and their JSON payloads.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::store::RunStatus;

/// An instant as RFC 3339 (UTC, milliseconds), as the API writes instants.
pub fn instant(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// What happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobChange {
    Created,
    Updated,
    Paused,
    Resumed,
    Deleted,
    Triggered,
}

/// What happened to a cluster setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingChange {
    /// Given a value (new or replaced).
    Set,
    /// Deleted: its default applies again.
    Reset,
}

/// What happened to a named API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenChange {
    Created,
    Revoked,
}

/// One event. Its [`Event::kind`] is the SSE event name; the fields are its payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// A tick was recorded `running` and its plugin called.
    RunStarted {
        job_id: String,
        job: String,
        run_id: i64,
        scheduled_at: String,
        /// Attempt of the tick, from 1.
        attempt: i32,
        instance_id: String,
        catch_up: bool,
        manual: bool,
    },
    /// A run ended (`succeeded`, `failed`, `timed_out`).
    RunFinished {
        job_id: String,
        job: String,
        run_id: i64,
        scheduled_at: String,
        /// Attempt of the tick, from 1.
        attempt: i32,
        instance_id: String,
        status: RunStatus,
        duration_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A job was created, edited, paused, resumed, deleted or triggered.
    JobChanged {
        job_id: String,
        job: String,
        change: JobChange,
        version: i64,
    },
    /// A job with a `stale_after` has not succeeded for that long.
    JobStale {
        job_id: String,
        job: String,
        /// When its newest succeeded run finished; absent when none did.
        #[serde(skip_serializing_if = "Option::is_none")]
        last_success_at: Option<String>,
    },
    /// A stale job succeeded again.
    JobRecovered { job_id: String, job: String },
    /// A replica registered.
    InstanceJoined {
        instance_id: String,
        address: String,
    },
    /// A replica left (gracefully, or its heartbeat stopped).
    InstanceLeft { instance_id: String },
    /// A plugin version was loaded by a replica.
    PluginLoaded {
        plugin: String,
        digest: String,
        instance_id: String,
    },
    /// A plugin failed to load on a replica.
    PluginFailed {
        plugin: String,
        error: String,
        instance_id: String,
    },
    /// A cluster setting was set or reset. The value is not in the event (a `read` token may
    /// stream events but sees `metrics.token` masked): read it with `GET /settings/{key}`.
    SettingChanged { key: String, change: SettingChange },
    /// A named API token was created or revoked. Neither its name nor its secret is in the
    /// event: the token list is for admin tokens only.
    TokenChanged { change: TokenChange },
    /// The jobs file was applied: the cluster's jobs now are the file's.
    JobsFileApplied {
        path: String,
        digest: String,
        created: usize,
        updated: usize,
        deleted: usize,
        instance_id: String,
    },
    /// The jobs file was refused (it does not parse or holds an invalid job): nothing
    /// changed. `error` says what and where.
    JobsFileRefused {
        path: String,
        digest: Option<String>,
        error: String,
        instance_id: String,
    },
}

impl Event {
    /// Every kind, as streamed.
    pub const KINDS: [&'static str; 13] = [
        "run.started",
        "run.finished",
        "job.changed",
        "job.stale",
        "job.recovered",
        "instance.joined",
        "instance.left",
        "plugin.loaded",
        "plugin.failed",
        "setting.changed",
        "token.changed",
        "jobs_file.applied",
        "jobs_file.refused",
    ];

    /// The SSE event name.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run.started",
            Event::RunFinished { .. } => "run.finished",
            Event::JobChanged { .. } => "job.changed",
            Event::JobStale { .. } => "job.stale",
            Event::JobRecovered { .. } => "job.recovered",
            Event::InstanceJoined { .. } => "instance.joined",
            Event::InstanceLeft { .. } => "instance.left",
            Event::PluginLoaded { .. } => "plugin.loaded",
            Event::PluginFailed { .. } => "plugin.failed",
            Event::SettingChanged { .. } => "setting.changed",
            Event::TokenChanged { .. } => "token.changed",
            Event::JobsFileApplied { .. } => "jobs_file.applied",
            Event::JobsFileRefused { .. } => "jobs_file.refused",
        }
    }

    /// The payload as JSON.
    pub fn payload(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A job changed.
    pub fn job_changed(job: &crate::store::Job, change: JobChange) -> Event {
        Event::JobChanged {
            job_id: job.id.clone(),
            job: job.name.clone(),
            change,
            version: job.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Job, NewJob};

    fn job() -> Job {
        let new = NewJob::new(
            String::from("nightly"),
            String::from("@hourly"),
            String::from("hello"),
        );
        Job {
            id: "j1".into(),
            name: new.name,
            schedule: new.schedule,
            timezone: new.timezone,
            plugin: new.plugin,
            input: new.input,
            config: new.config,
            paused: false,
            paused_reason: None,
            overlap: new.overlap,
            misfire: new.misfire,
            catchup_window_ms: new.catchup_window_ms,
            jitter_ms: 0,
            timeout_ms: None,
            memory_limit_bytes: None,
            allowed_hosts: vec![],
            failure: new.failure,
            secrets: new.secrets,
            managed_by: None,
            owner: Some("a".into()),
            epoch: 3,
            version: 2,
            anchor_ms: 0,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn run_events_carry_the_job_tick_and_outcome() {
        let started = Event::RunStarted {
            job_id: "j1".into(),
            job: "nightly".into(),
            run_id: 7,
            scheduled_at: instant(1_000),
            attempt: 1,
            instance_id: "a".into(),
            catch_up: false,
            manual: false,
        };
        assert_eq!(started.kind(), "run.started");
        assert_eq!(
            started.payload()["scheduled_at"],
            "1970-01-01T00:00:01.000Z"
        );
        let finished = Event::RunFinished {
            job_id: "j1".into(),
            job: "nightly".into(),
            run_id: 7,
            scheduled_at: instant(1_000),
            attempt: 2,
            instance_id: "a".into(),
            status: RunStatus::Failed,
            duration_ms: 12,
            error: Some("boom".into()),
        };
        assert_eq!(finished.kind(), "run.finished");
        let p = finished.payload();
        assert_eq!(
            (p["status"].as_str(), p["duration_ms"].as_u64()),
            (Some("failed"), Some(12))
        );
        assert_eq!(p["error"], "boom");
        let changed = Event::job_changed(&job(), JobChange::Paused).payload();
        assert_eq!(changed["change"], "paused");
        assert_eq!(changed["version"], 2);
        let reset = Event::SettingChanged {
            key: "metrics.token".into(),
            change: SettingChange::Reset,
        };
        assert_eq!(
            (reset.kind(), reset.payload()),
            (
                "setting.changed",
                serde_json::json!({"key": "metrics.token", "change": "reset"})
            )
        );
        let revoked = Event::TokenChanged {
            change: TokenChange::Revoked,
        };
        assert_eq!(
            (revoked.kind(), revoked.payload()),
            ("token.changed", serde_json::json!({"change": "revoked"}))
        );
        assert!(Event::KINDS.contains(&reset.kind()) && Event::KINDS.contains(&revoked.kind()));
    }
}
