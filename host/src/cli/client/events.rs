//! `wasmcron events`: tail the cluster's event stream (Server-Sent Events), reconnecting with
//! `Last-Event-ID` when the connection drops.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

use super::ClientArgs;
use super::error::ClientError;
use super::http::{Client, encode};
use super::table::{cell, short};

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

fn summary(event: &Value) -> String {
    let d = &event["data"];
    match event["kind"].as_str().unwrap_or("") {
        "run.started" => format!(
            "job={} run={} tick={} instance={}{}",
            cell(&d["job"]),
            cell(&d["run_id"]),
            cell(&d["scheduled_at"]),
            cell(&d["instance_id"]),
            if d["manual"].as_bool() == Some(true) {
                " manual"
            } else {
                ""
            }
        ),
        "run.finished" => format!(
            "job={} run={} status={} duration={}ms instance={}{}",
            cell(&d["job"]),
            cell(&d["run_id"]),
            cell(&d["status"]),
            cell(&d["duration_ms"]),
            cell(&d["instance_id"]),
            d["error"]
                .as_str()
                .map(|e| format!(" error={}", short(&Value::String(e.into()), 60)))
                .unwrap_or_default()
        ),
        "job.changed" => format!(
            "job={} {} version={}",
            cell(&d["job"]),
            cell(&d["change"]),
            cell(&d["version"])
        ),
        _ => d
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| format!("{k}={}", short(v, 60)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
    }
}

pub async fn run_events(args: &ClientArgs, events: EventsArgs) -> Result<(), ClientError> {
    let client = Client::new(args);
    let mut last_id = events.after;
    let mut seen = 0usize;
    let mut connected_once = false;
    loop {
        let mut path = "/events".to_string();
        if let Some(kind) = &events.kind {
            path.push_str(&format!("?kind={}", encode(kind)));
        }
        let mut request = client.request(Method::GET, &path);
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
                .json(client.request(Method::GET, &path))
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
                let event: Value = serde_json::from_str(&message.data).unwrap_or(Value::Null);
                if args.json() {
                    println!("{}", message.data);
                } else {
                    println!(
                        "{}  {:<15}  {}",
                        cell(&event["at"]),
                        cell(&event["kind"]),
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
}
