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

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::Query;
use super::limits::{Client, StreamSlot};
use super::schema::EventKind;
use super::state::ApiState;
use crate::events::Event;

/// How often an open stream checks that its token is still valid.
const REVOCATION_CHECK: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Resume right after this event id (as `Last-Event-ID`).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Keep only these kinds (comma-separated).
    #[param(value_type = Option<Vec<EventKind>>, style = Form, explode = false)]
    kind: Option<String>,
}

/// The `data` of every message of the stream.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventMessage {
    /// The event's id (also the message's `id`).
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(value_type = EventKind)]
    pub kind: String,
    /// The event's fields, by kind.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Server-Sent Events of the whole cluster
///
/// Every message has `id`, `event` (the kind) and `data`, an `EventMessage` as JSON. Without
/// `Last-Event-ID` or `after` the stream starts with the next event.
#[utoipa::path(get, path = "/events", tag = "events", operation_id = "streamEvents",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0,
            description = "Resume right after this event id"),
    ),
    responses(
        (status = 200, description = "An endless event stream", body = String,
            content_type = "text/event-stream"),
        (status = 400, description = "An invalid cursor or kind", body = ErrorBody),
        (status = 429, description = "This client holds too many event streams open already, \
            or presented too many unknown bearer tokens",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn stream(
    State(state): State<ApiState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    // At most a few streams per client: each holds a connection and a database follower.
    let Some(slot) = state.limits.open_stream(client) else {
        crate::metrics::global().api_throttled("event_streams");
        return super::limits::too_many_streams();
    };
    match open(state, headers, q, slot).await {
        Ok(sse) => sse.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The stream of [`stream`], holding `slot` for as long as it is open.
async fn open(
    state: ApiState,
    headers: HeaderMap,
    q: EventsQuery,
    slot: StreamSlot,
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
            let message = EventMessage {
                id: e.id,
                at: crate::events::instant(e.at_ms),
                kind: e.kind,
                data: e.payload,
            };
            let data = serde_json::to_string(&message).unwrap_or_default();
            Ok(SseEvent::default()
                .id(message.id.to_string())
                .event(message.kind)
                .data(data))
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
    let events = events.take_until(revoked).map(move |event| {
        let _open = &slot;
        event
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_message_carries_the_event_and_its_payload() {
        let message = EventMessage {
            id: 7,
            at: crate::events::instant(0),
            kind: "token.changed".into(),
            data: json!({"change": "created"}),
        };
        assert_eq!(
            serde_json::to_value(message).unwrap(),
            json!({"id": 7, "at": "1970-01-01T00:00:00.000Z", "kind": "token.changed",
                   "data": {"change": "created"}})
        );
    }
}
