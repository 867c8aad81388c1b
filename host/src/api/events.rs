//! `GET /api/v1/events`: Server-Sent Events of the whole cluster (run started/finished, job
//! changed, instance joined/left, plugin loaded/failed, setting changed, token created or
//! revoked), from the persisted history.
//!
//! Without `Last-Event-ID` (or `?after=`) the stream starts with the next event; with it, the
//! stream resumes right after that event (as far back as retention keeps). `?kind=` keeps only
//! the listed kinds (comma-separated). Every message has `id`, `event` (the kind) and `data`:
//! `{"id", "at", "kind", "data": {…}}`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::state::ApiState;
use crate::events::Event;

/// How often an open stream checks that its token is still valid.
const REVOCATION_CHECK: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    after: Option<i64>,
    kind: Option<String>,
}

pub async fn stream(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::invalid("Last-Event-ID", "Last-Event-ID must be an event id")
                })?,
        ),
    };
    if let Some(after) = q.after
        && after < 0
    {
        return Err(ApiError::invalid("after", "after must be an event id"));
    }
    let kinds: Option<Vec<String>> = match q.kind.as_deref() {
        None | Some("") => None,
        Some(list) => {
            let kinds: Vec<String> = list.split(',').map(|k| k.trim().to_string()).collect();
            if let Some(bad) = kinds.iter().find(|k| !Event::KINDS.contains(&k.as_str())) {
                return Err(ApiError::invalid(
                    "kind",
                    format!(
                        "unknown event kind {bad:?}; kinds are {}",
                        Event::KINDS.join(", ")
                    ),
                ));
            }
            Some(kinds)
        }
    };
    let after = match last_event_id.or(q.after) {
        Some(id) => id,
        None => state.hub.head().await?,
    };
    let events = state
        .hub
        .subscribe(after)
        .filter(move |e| {
            let keep = kinds.as_ref().is_none_or(|k| k.contains(&e.kind));
            std::future::ready(keep)
        })
        .map(|e| {
            let data = json!({
                "id": e.id,
                "at": crate::events::instant(e.at_ms),
                "kind": e.kind,
                "data": e.payload,
            });
            Ok(SseEvent::default()
                .id(e.id.to_string())
                .event(e.kind)
                .data(data.to_string()))
        });
    // A stream ends when the token that opened it is revoked.
    let state = state.clone();
    let token = super::auth::bearer(&headers).map(str::to_owned);
    let revoked = async move {
        if state.info.api_token.is_none() {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(REVOCATION_CHECK).await;
            if super::auth::identify(&state, token.as_deref()).is_err() {
                return;
            }
        }
    };
    let events = events.take_until(revoked);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
