//! The HTTP API (axum), served by every replica; any replica answers for the whole cluster.
//!
//! Building the router also starts the API's background work, which ends when the replica is
//! dropped: the manual-trigger worker ([`trigger::worker`]) and the event watchers
//! ([`crate::events::spawn_watchers`]).

mod auth;
mod error;
mod events;
mod job_fields;
mod jobs;
mod metrics;
pub mod openapi;
mod runs;
mod state;
mod system;
mod tokens;
mod trigger;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::sync::Notify;

pub use error::ApiError;
pub use job_fields::JobFields;
pub use jobs::new_job;
pub use state::ApiState;
pub use trigger::TriggerView;
pub use views::{JobView, Page, RunView};

use crate::events::EventHub;
use crate::replica::Replica;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Every route; starts the API's background work (see the module docs).
pub fn router(replica: Arc<Replica>) -> Router {
    let state = ApiState {
        hub: EventHub::start(replica.store.clone()),
        triggers: Arc::new(Notify::new()),
        token_uses: Arc::default(),
        replica: replica.clone(),
    };
    tokio::spawn(trigger::worker::run(
        Arc::downgrade(&replica),
        state.triggers.clone(),
    ));
    crate::events::spawn_watchers(&replica);
    let api = Router::new()
        .route("/jobs", post(jobs::create).get(jobs::list))
        .route(
            "/jobs/{id}",
            get(jobs::get).patch(jobs::update).delete(jobs::delete),
        )
        .route("/jobs/{id}/pause", post(jobs::pause))
        .route("/jobs/{id}/resume", post(jobs::resume))
        .route("/jobs/{id}/trigger", post(trigger::trigger))
        .route("/jobs/{id}/runs", get(runs::list_for_job))
        .route("/runs", get(runs::list))
        .route("/plugins", get(system::plugins))
        .route("/instances", get(system::instances))
        .route("/settings", get(system::settings_list))
        .route("/settings/effective", get(system::settings_effective))
        .route(
            "/settings/{key}",
            get(system::setting_get)
                .put(system::setting_put)
                .delete(system::setting_delete),
        )
        .route("/whoami", get(tokens::whoami))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{name}", axum::routing::delete(tokens::revoke))
        .route("/events", get(events::stream))
        .route("/openapi.json", get(openapi::serve))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .fallback(system::not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(crate::dashboard::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
