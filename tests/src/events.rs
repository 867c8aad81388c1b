//! A reader of a replica's event stream (`/api/v1/events`, Server-Sent Events).

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::host::Host;

/// An open event stream: every message's `data` JSON, in order.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Value>,
    pub seen: Vec<Value>,
}

/// Connect to `/api/v1/events{query}` of `host` (optionally resuming after
/// `last_event_id`) and wait until the server has answered with its headers.
pub async fn subscribe(host: &Host, query: &str, last_event_id: Option<i64>) -> Events {
    subscribe_as(host, query, last_event_id, None).await
}

/// [`subscribe`] with a bearer token.
pub async fn subscribe_as(
    host: &Host,
    query: &str,
    last_event_id: Option<i64>,
    token: Option<&str>,
) -> Events {
    let mut request = reqwest::Client::new().get(format!("{}/api/v1/events{query}", host.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.expect("events");
    assert_eq!(response.status().as_u16(), 200, "events stream refused");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut event = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<i64>().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str::<Value>(v.trim()).ok();
                    }
                }
                if let Some(data) = data {
                    assert_eq!(data["id"].as_i64(), id, "SSE id matches the payload id");
                    assert_eq!(
                        data["kind"].as_str(),
                        event.as_deref(),
                        "SSE event is the kind"
                    );
                    if tx.send(data).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Events {
        rx,
        seen: Vec::new(),
    }
}

impl Events {
    /// The first event (from now on) matching `pred`, or panic after `deadline`.
    pub async fn wait_for(
        &mut self,
        what: &str,
        deadline: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(event)) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Ok(None) => panic!("event stream ended while waiting for {what}"),
                Err(_) => panic!("no event {what} within {deadline:?}; saw {:#?}", self.seen),
            }
        }
    }
}
