//! An alert's facts ([`Alert`]), the key that makes it once for the cluster, and the bodies
//! sent for it: JSON, or one line of text for Slack.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::settings::{AlertEvent, Format};
use crate::store::RunStatus;

/// What an alert says. Fields that do not apply are `None` (null in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The event.
    pub event: AlertEvent,
    /// The job's `(id, name)`.
    pub job: Option<(String, String)>,
    /// The tick's scheduled instant (the first one, for `tick.missed`).
    pub scheduled_at_ms: Option<i64>,
    /// The attempt that failed.
    pub attempt: Option<i32>,
    /// The run's status.
    pub status: Option<RunStatus>,
    /// The error.
    pub error: Option<String>,
    /// The replica that observed it.
    pub instance_id: Option<String>,
    /// How many ticks (`tick.missed`).
    pub count: Option<u64>,
    /// What makes this fact distinct from another of the same event and job (a tick, a job
    /// version, a last success, a digest of a plugin's error): with the event and the job it
    /// is the fact's key, so every replica that observes it enqueues the same rows.
    pub fact: String,
}

impl Alert {
    /// An alert about job `(id, name)` with only the event and its fact set.
    fn about(event: AlertEvent, id: &str, name: &str, fact: String) -> Alert {
        Alert {
            event,
            job: Some((id.to_owned(), name.to_owned())),
            scheduled_at_ms: None,
            attempt: None,
            status: None,
            error: None,
            instance_id: None,
            count: None,
            fact,
        }
    }

    /// `run.failed`: the last attempt `attempt` of the tick `tick_ms` ended `status`.
    pub fn run_failed(
        (id, name): (&str, &str),
        tick_ms: i64,
        attempt: i32,
        status: RunStatus,
        error: Option<String>,
        instance: &str,
    ) -> Alert {
        Alert {
            scheduled_at_ms: Some(tick_ms),
            attempt: Some(attempt),
            status: Some(status),
            error,
            instance_id: Some(instance.to_owned()),
            ..Alert::about(AlertEvent::RunFailed, id, name, tick_ms.to_string())
        }
    }

    /// `tick.missed`: `count` ticks from `first_ms` recorded `status` in one planning.
    pub fn ticks_missed(
        (id, name): (&str, &str),
        first_ms: i64,
        count: u64,
        status: RunStatus,
        instance: &str,
    ) -> Alert {
        Alert {
            scheduled_at_ms: Some(first_ms),
            status: Some(status),
            count: Some(count),
            instance_id: Some(instance.to_owned()),
            ..Alert::about(AlertEvent::TickMissed, id, name, first_ms.to_string())
        }
    }

    /// `job.paused`: the job paused itself (now at `version`) after `failures` failed ticks.
    pub fn job_paused(
        (id, name): (&str, &str),
        version: i64,
        failures: u32,
        instance: &str,
    ) -> Alert {
        Alert {
            error: Some(format!("paused after {failures} consecutive failed ticks")),
            instance_id: Some(instance.to_owned()),
            ..Alert::about(AlertEvent::JobPaused, id, name, version.to_string())
        }
    }

    /// `job.stale`: no success since `since_ms` (its last success, or its creation).
    pub fn job_stale((id, name): (&str, &str), since_ms: i64, last_success: bool) -> Alert {
        let what = if last_success {
            "last success"
        } else {
            "created"
        };
        Alert {
            error: Some(format!(
                "no successful run since {} ({what})",
                instant(since_ms)
            )),
            ..Alert::about(AlertEvent::JobStale, id, name, since_ms.to_string())
        }
    }

    /// `job.recovered`: tick `tick_ms` succeeded after the job was stale, or after its previous
    /// tick had failed. One fact for both (the tick that succeeded): a job that was both, seen
    /// by both observers, is alerted once.
    pub fn job_recovered((id, name): (&str, &str), tick_ms: i64) -> Alert {
        Alert {
            scheduled_at_ms: Some(tick_ms),
            status: Some(RunStatus::Succeeded),
            ..Alert::about(
                AlertEvent::JobRecovered,
                id,
                name,
                format!("tick {tick_ms}"),
            )
        }
    }

    /// `plugin.failed`: `plugin` failed to load on `instance`.
    pub fn plugin_failed(plugin: &str, error: &str, instance: &str) -> Alert {
        let error = format!("plugin {plugin}: {error}");
        Alert {
            event: AlertEvent::PluginFailed,
            job: None,
            scheduled_at_ms: None,
            attempt: None,
            status: None,
            fact: digest(&error),
            error: Some(error),
            instance_id: Some(instance.to_owned()),
            count: None,
        }
    }

    /// The fact's key, without the webhook.
    pub fn key(&self) -> String {
        let job = self.job.as_ref().map_or("", |(id, _)| id.as_str());
        format!("{}:{job}:{}", self.event, self.fact)
    }

    /// The JSON body, without `at` (set when sent, from the outbox row's database time).
    pub fn body(&self) -> Value {
        json!({
            "event": self.event.as_str(),
            "job": self.job.as_ref().map(|(id, name)| json!({"id": id, "name": name})),
            "scheduled_at": self.scheduled_at_ms.map(instant),
            "attempt": self.attempt,
            "status": self.status.map(|s| s.as_str()),
            "error": self.error,
            "instance_id": self.instance_id,
            "count": self.count,
        })
    }
}

/// An instant as RFC 3339 (UTC, milliseconds), as the API writes instants.
fn instant(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A digest of `text` short enough for a key.
pub fn digest(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// What is sent for a stored body enqueued at `at_ms`, in `format`.
pub fn payload(stored: &str, at_ms: i64, format: Format) -> Value {
    let mut body: Value = serde_json::from_str(stored).unwrap_or_else(|_| json!({}));
    if let Some(fields) = body.as_object_mut() {
        fields.insert("at".into(), Value::String(instant(at_ms)));
    }
    match format {
        Format::Json => body,
        Format::Slack => json!({ "text": line(&body) }),
    }
}

/// The facts of a JSON body in one readable line.
pub fn line(body: &Value) -> String {
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let mut out = format!("wasmcron {}", text("event").unwrap_or("alert"));
    if let Some(job) = body.get("job").filter(|j| !j.is_null()) {
        let name = job.get("name").and_then(Value::as_str).unwrap_or("?");
        let id = job.get("id").and_then(Value::as_str).unwrap_or("?");
        out.push_str(&format!(": job {name} ({id})"));
    }
    if let Some(count) = body.get("count").and_then(Value::as_u64) {
        out.push_str(&format!(", {count} ticks"));
    }
    if let Some(at) = text("scheduled_at") {
        out.push_str(&format!(", tick {at}"));
    }
    if let Some(attempt) = body.get("attempt").and_then(Value::as_i64) {
        out.push_str(&format!(", attempt {attempt}"));
    }
    if let Some(status) = text("status") {
        out.push_str(&format!(", {status}"));
    }
    if let Some(instance) = text("instance_id") {
        out.push_str(&format!(", on {instance}"));
    }
    if let Some(at) = text("at") {
        out.push_str(&format!(", at {at}"));
    }
    if let Some(error) = text("error") {
        out.push_str(&format!(": {error}"));
    }
    // One line, whatever a field holds.
    out.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Alert {
        Alert {
            event: AlertEvent::RunFailed,
            job: Some(("j1".into(), "nightly".into())),
            scheduled_at_ms: Some(1_000),
            attempt: Some(3),
            status: Some(RunStatus::TimedOut),
            error: Some("deadline\nexceeded".into()),
            instance_id: Some("a".into()),
            count: None,
            fact: "1000".into(),
        }
    }

    #[test]
    fn the_json_body_has_every_field_null_where_it_does_not_apply() {
        let body = payload(&failed().body().to_string(), 2_000, Format::Json);
        assert_eq!(
            body,
            json!({
                "event": "run.failed",
                "at": "1970-01-01T00:00:02.000Z",
                "job": {"id": "j1", "name": "nightly"},
                "scheduled_at": "1970-01-01T00:00:01.000Z",
                "attempt": 3,
                "status": "timed_out",
                "error": "deadline\nexceeded",
                "instance_id": "a",
                "count": null,
            })
        );
        let plugin = Alert {
            event: AlertEvent::PluginFailed,
            job: None,
            scheduled_at_ms: None,
            attempt: None,
            status: None,
            error: Some("broken.wasm: bad magic".into()),
            instance_id: Some("b".into()),
            count: None,
            fact: digest("broken.wasm: bad magic"),
        };
        let body = payload(&plugin.body().to_string(), 0, Format::Json);
        assert!(
            body["job"].is_null() && body["scheduled_at"].is_null() && body["attempt"].is_null()
        );
        assert_eq!(plugin.key(), format!("plugin.failed::{}", plugin.fact));
        assert_eq!(failed().key(), "run.failed:j1:1000");
    }

    #[test]
    fn the_slack_body_is_one_line_with_the_same_facts() {
        let body = payload(&failed().body().to_string(), 2_000, Format::Slack);
        assert_eq!(
            body,
            json!({"text": "wasmcron run.failed: job nightly (j1), tick 1970-01-01T00:00:01.000Z, \
                attempt 3, timed_out, on a, at 1970-01-01T00:00:02.000Z: deadline exceeded"})
        );
        let missed = Alert {
            event: AlertEvent::TickMissed,
            count: Some(4),
            attempt: None,
            status: Some(RunStatus::Missed),
            error: None,
            ..failed()
        };
        let text = line(&payload(&missed.body().to_string(), 0, Format::Json));
        assert!(
            text.starts_with("wasmcron tick.missed: job nightly (j1), 4 ticks, tick "),
            "{text}"
        );
    }
}
