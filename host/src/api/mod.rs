//! The HTTP API (axum), served by every replica; any replica answers for the whole cluster.

mod auth;
mod error;
mod job_fields;
mod jobs;
mod runs;
mod system;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use error::ApiError;
pub use job_fields::JobFields;
pub use jobs::new_job;

use crate::replica::Replica;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Every route.
pub fn router(replica: Arc<Replica>) -> Router {
    let api = Router::new()
        .route("/jobs", post(jobs::create).get(jobs::list))
        .route(
            "/jobs/{id}",
            get(jobs::get).patch(jobs::update).delete(jobs::delete),
        )
        .route("/jobs/{id}/pause", post(jobs::pause))
        .route("/jobs/{id}/resume", post(jobs::resume))
        .route("/jobs/{id}/runs", get(runs::list_for_job))
        .route("/runs", get(runs::list))
        .route("/plugins", get(system::plugins))
        .route("/instances", get(system::instances))
        .route("/settings", get(system::settings_list))
        .route(
            "/settings/{key}",
            get(system::setting_get)
                .put(system::setting_put)
                .delete(system::setting_delete),
        )
        .layer(axum::middleware::from_fn_with_state(
            replica.clone(),
            auth::require_token,
        ))
        .fallback(system::not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(replica)
}
