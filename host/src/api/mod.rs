//! The HTTP API (axum), served by every replica; any replica answers for the whole cluster.
//! The router holds an [`ApiState`] of narrow handles (store, job operations, settings,
//! plugins, health, clock, event hub); it starts no background work of its own.
//!
//! One file per resource: [`jobs`], [`runs`], [`trigger`], [`system`] (health, plugins,
//! instances, settings), [`tokens`], [`events`] (the SSE stream), [`metrics`]; [`auth`] is the
//! bearer-token layer, [`views`] the JSON shapes, [`error`] the one error shape, [`openapi`]
//! the contract.

mod auth;
mod error;
mod events;
mod jobs;
mod metrics;
pub mod openapi;
mod runs;
mod state;
mod system;
mod tokens;
mod trigger;
mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::TokenUses;
pub use error::ApiError;
pub use state::{ApiState, ReplicaInfo};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Every route.
pub fn router(state: ApiState) -> Router {
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
