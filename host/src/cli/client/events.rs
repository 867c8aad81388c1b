//! `wasmcron events`: tail the cluster's event stream (Server-Sent Events), reconnecting with
//! `Last-Event-ID` when the connection drops.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ClientArgs;
use super::error::ClientError;
use super::http::Client;
use super::output::{short, text, value};
use crate::api::EventMessage;
use crate::store::RunStatus;

/// Which events `wasmcron events` prints.
#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// Start right after this event id (default: only new events).
    #[arg(long)]
    pub after: Option<i64>,
    /// Only these kinds (comma-separated), e.g. run.started,run.finished.
    #[arg(long)]
    pub kind: Option<String>,
    /// Stop after this many events.
    #[arg(long)]
    pub count: Option<usize>,
}

/// One parsed SSE message.
#[derive(Debug, Default)]
struct Message {
    id: Option<i64>,
    data: String,
}

/// Split complete messages (terminated by a blank line) off the front of `buffer`.
fn take_messages(buffer: &mut String) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut message = Message::default();
        for line in block.lines() {
            if let Some(id) = line.strip_prefix("id:") {
                message.id = id.trim().parse().ok();
            } else if let Some(data) = line.strip_prefix("data:") {
                if !message.data.is_empty() {
                    message.data.push('\n');
                }
                message
                    .data
                    .push_str(data.strip_prefix(' ').unwrap_or(data));
            }
        }
        if !message.data.is_empty() {
            out.push(message);
        }
    }
    out
}

// The payloads of the kinds the client summarizes, read for the fields it prints. The API
// types a message's `data` only as JSON: the payloads are the fields of `crate::events::Event`,
// which is written untagged (its kind is beside it, not in it) and so cannot be read back as
// itself; these read the part of each that the summary needs.

/// The payload of a `run.started` event.
#[derive(Debug, Deserialize)]
struct RunStarted {
    job: String,
    run_id: i64,
    scheduled_at: String,
    instance_id: String,
    #[serde(default)]
    manual: bool,
}

/// The payload of a `run.finished` event.
#[derive(Debug, Deserialize)]
struct RunFinished {
    job: String,
    run_id: i64,
    status: RunStatus,
    duration_ms: u64,
    instance_id: String,
    error: Option<String>,
}

/// The payload of a `job.changed` event.
#[derive(Debug, Deserialize)]
struct JobChanged {
    job: String,
    change: String,
    version: i64,
}

/// The payload of an event of a kind the client summarizes.
fn payload<T: DeserializeOwned>(data: &Value) -> Option<T> {
    T::deserialize(data).ok()
}

/// One line about an event: the main fields of the kinds below, else every field.
fn summary(event: &EventMessage) -> String {
    let d = &event.data;
    match event.kind.as_str() {
        "run.started" => {
            if let Some(r) = payload::<RunStarted>(d) {
                return format!(
                    "job={} run={} tick={} instance={}{}",
                    text(&r.job),
                    r.run_id,
                    text(&r.scheduled_at),
                    text(&r.instance_id),
                    if r.manual { " manual" } else { "" }
                );
            }
        }
        "run.finished" => {
            if let Some(r) = payload::<RunFinished>(d) {
                return format!(
                    "job={} run={} status={} duration={}ms instance={}{}",
                    text(&r.job),
                    r.run_id,
                    r.status,
                    r.duration_ms,
                    text(&r.instance_id),
                    r.error
                        .map(|e| format!(" error={}", short(text(&e), 60)))
                        .unwrap_or_default()
                );
            }
        }
        "job.changed" => {
            if let Some(j) = payload::<JobChanged>(d) {
                return format!(
                    "job={} {} version={}",
                    text(&j.job),
                    text(&j.change),
                    j.version
                );
            }
        }
        _ => {}
    }
    d.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}={}", short(value(v), 60)))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// `GET /events` query.
#[derive(Debug, Serialize)]
struct EventsQuery<'a> {
    kind: Option<&'a str>,
}

/// `wasmcron events`: print events as they come, reconnecting after the last one seen.
pub async fn run_events(args: &ClientArgs, events: EventsArgs) -> Result<(), ClientError> {
    let client = Client::new(args);
    let mut last_id = events.after;
    let mut seen = 0usize;
    let mut connected_once = false;
    loop {
        let query = EventsQuery {
            kind: events.kind.as_deref(),
        };
        let mut request = client.request(Method::GET, &["events"])?.query(&query);
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = match client.send(request).await {
            Ok(r) => r,
            Err(e) if !connected_once => return Err(e),
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if !response.status().is_success() {
            // Let the JSON error path word it.
            return client
                .read::<serde::de::IgnoredAny>(response)
                .await
                .map(|_| ());
        }
        connected_once = true;
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { break };
            buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
            for message in take_messages(&mut buffer) {
                if message.id.is_some() {
                    last_id = message.id;
                }
                if args.json() {
                    println!("{}", message.data);
                } else {
                    let event: EventMessage =
                        serde_json::from_str(&message.data).unwrap_or_default();
                    println!(
                        "{}  {:<15}  {}",
                        text(&event.at),
                        text(&event.kind),
                        summary(&event)
                    );
                }
                seen += 1;
                if events.count.is_some_and(|c| seen >= c) {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_on_blank_lines_and_keep_their_id() {
        let mut buffer =
            "id: 7\nevent: job.changed\ndata: {\"a\":1}\n\n: keep-alive\n\nid: 8\nda".to_string();
        let messages = take_messages(&mut buffer);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].id, Some(7));
        assert_eq!(messages[0].data, "{\"a\":1}");
        assert_eq!(buffer, "id: 8\nda");
    }

    #[test]
    fn summaries_name_the_main_fields_of_known_kinds_and_every_field_of_others() {
        let event = |kind: &str, data: Value| EventMessage {
            id: 1,
            at: "2026-01-01T00:00:00.000Z".into(),
            kind: kind.into(),
            data,
        };
        let finished = event(
            "run.finished",
            serde_json::json!({
                "job_id": "j1", "job": "greeter", "run_id": 7,
                "scheduled_at": "2026-01-01T00:00:00.000Z", "instance_id": "a",
                "status": "timed_out", "duration_ms": 30000, "error": "too\nslow",
            }),
        );
        assert_eq!(
            summary(&finished),
            "job=greeter run=7 status=timed_out duration=30000ms instance=a error=too slow"
        );
        let changed = event(
            "job.changed",
            serde_json::json!({"job_id": "j1", "job": "greeter", "change": "created", "version": 1}),
        );
        assert_eq!(summary(&changed), "job=greeter created version=1");
        let left = event("instance.left", serde_json::json!({"instance_id": "b"}));
        assert_eq!(summary(&left), "instance_id=b");
    }
}
