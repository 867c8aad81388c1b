//! The HTTP API (axum), served by every replica; any replica answers for the whole cluster.
//! The router holds an [`ApiState`] of narrow handles (store, job operations, settings,
//! plugins, health, clock, event hub); it starts no background work of its own.
//!
//! One file per resource: [`jobs`], [`runs`], [`trigger`], [`settings`], [`tokens`],
//! [`alerts`], [`audit`] (the audit log, and how settings and token changes are recorded),
//! [`events`] (the SSE stream), [`system`] (probes, plugins, instances), [`overview`] (the
//! on-call overview), [`metrics`]. [`auth`] is the bearer-token layer, [`limits`] what one
//! client may ask (failed tokens slowed down,
//! open event streams, header sizes, `Cache-Control: no-store` on every `/api/` answer),
//! [`extract`] the extractors that refuse in the API's error shape,
//! [`views`] the JSON shapes, [`error`] the one error shape, [`schema`] the schemas of domain
//! types other modules own, [`openapi`] the contract.
//!
//! The router and the OpenAPI document come from one route table ([`api_routes`],
//! [`root_routes`]): each handler carries its own documentation, so a route cannot be served
//! without being described, nor described without being served.

mod alerts;
mod audit;
mod auth;
mod error;
mod events;
mod extract;
mod jobs;
mod jobs_file;
pub mod limits;
mod metrics;
pub mod openapi;
mod overview;
mod runs;
mod schema;
mod settings;
mod specs;
mod state;
mod system;
mod tokens;
mod trigger;
mod views;

#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod round_trips;
#[cfg(test)]
mod tests;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use audit::{AuditJob, AuditView};
pub use auth::{MIN_BOOTSTRAP_TOKEN_CHARS, TokenUses, check_bootstrap_token};
pub use error::{ApiError, ErrorBody, ErrorCode, ErrorDetail, FieldProblem};
pub use events::EventMessage;
pub use limits::ClientLimits;
pub use settings::{EffectiveSettings, Setting, SettingMap, SettingValue};
pub use specs::{ApplyRequest, ChangeView, FieldChangeView, PlanView, Specs};
pub use state::{ApiState, ReplicaInfo};
pub use system::{InstanceView, PluginView};
pub use tokens::{CreatedToken, NewToken, TokenList, TokenView, WhoAmI};
pub use trigger::TriggerView;
pub use views::{JobView, Page, RunView};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The largest body of `POST /specs/apply` (a whole jobs file, as the file's own limit).
pub const MAX_APPLY_BODY_BYTES: usize = crate::jobs_file::MAX_FILE_BYTES as usize;

/// The routes of `/api/v1`, relative to it. One `routes!` per path.
fn api_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(jobs::create, jobs::list))
        .routes(routes!(jobs::get, jobs::update, jobs::delete))
        .routes(routes!(jobs::pause))
        .routes(routes!(jobs::resume))
        .routes(routes!(jobs_file::get))
        .routes(routes!(specs::export))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(specs::apply))
                .layer(DefaultBodyLimit::max(MAX_APPLY_BODY_BYTES)),
        )
        .routes(routes!(trigger::trigger))
        .routes(routes!(runs::list_for_job))
        .routes(routes!(runs::list))
        .routes(routes!(system::plugins))
        .routes(routes!(system::instances))
        .routes(routes!(settings::list))
        .routes(routes!(settings::effective))
        .routes(routes!(settings::get, settings::put, settings::delete))
        .routes(routes!(tokens::whoami))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(alerts::list))
        .routes(routes!(overview::get))
        .routes(routes!(audit::list))
        .routes(routes!(events::stream))
        .routes(routes!(openapi::serve))
}

/// The probes and the metrics, at the root beside the API (no API token).
fn root_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(metrics::metrics))
}

/// Every route: the API under `/api/v1` behind the bearer-token layer, the probes, the
/// metrics and the dashboard.
pub fn router(state: ApiState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    let api = api
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .fallback(system::not_found);
    let (root, _) = root_routes().split_for_parts();
    Router::new()
        .nest("/api/v1", api)
        .merge(root)
        .merge(crate::dashboard::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limits::bound_headers))
        .layer(axum::middleware::from_fn(limits::no_store))
        .with_state(state)
}
