//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`. It is generated
//! from the same route table as the router ([`super::api_routes`], [`super::root_routes`]):
//! each handler's annotation names its parameters, body and answers, each type its schema.
//! What the bearer-token layer adds to every operation (401, 429 after repeated unknown
//! tokens, and 403 where a `read` token is refused) comes from the layer's own rule,
//! [`super::auth::refused_to_readers`]; the header bound adds 431 everywhere.

use std::sync::LazyLock;

use axum::http::{Method, header};
use axum::response::IntoResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::auth::refused_to_readers;
use super::error::ErrorBody;
use super::events::EventMessage;
use super::schema::EventKind;

#[derive(OpenApi)]
#[openapi(
    servers((url = "/api/v1", description = "Every replica answers for the whole cluster")),
    security((), ("bearerAuth" = [])),
    components(schemas(EventMessage, EventKind)),
    modifiers(&SecuritySchemes),
)]
struct Base;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "bearerAuth",
            bearer(
                "The bootstrap token (WASMCRON_API_TOKEN) or a named token; \
                 needed only when the replicas are started with WASMCRON_API_TOKEN",
            ),
        );
        components.add_security_scheme(
            "metricsToken",
            bearer("The value of the setting metrics.token, when it is set"),
        );
    }
}

/// The operations of a path, by method.
fn operations(item: &mut PathItem) -> [(Method, &mut Option<Operation>); 5] {
    [
        (Method::GET, &mut item.get),
        (Method::POST, &mut item.post),
        (Method::PUT, &mut item.put),
        (Method::PATCH, &mut item.patch),
        (Method::DELETE, &mut item.delete),
    ]
}

/// An answer with the error shape.
fn error(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
}

/// What the bearer-token layer may answer instead of the handler.
fn add_auth_answers(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            let Some(operation) = operation else { continue };
            let responses = &mut operation.responses.responses;
            responses.insert(
                "401".into(),
                error("The API requires a token and none, or an unknown one, was presented").into(),
            );
            let throttled = too_many_requests(
                "This client presented too many unknown bearer tokens: wait Retry-After seconds",
            );
            responses.entry("429".into()).or_insert(throttled.into());
            if let Some(what) = refused_to_readers(&method, path) {
                responses.insert(
                    "403".into(),
                    error(&format!("A read token cannot {what}")).into(),
                );
            }
        }
    }
}

/// A 429 answer: the error shape and `Retry-After`.
fn too_many_requests(description: &str) -> utoipa::openapi::Response {
    let mut response = error(description);
    response.headers.insert(
        "Retry-After".into(),
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some("Seconds to wait before trying again"))
            .build()
            .into(),
    );
    response
}

/// What the header bound (`limits::bound_headers`) may answer on every path, the probes too.
fn add_header_limit(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            let Some(operation) = operation else { continue };
            operation.responses.responses.insert(
                "431".into(),
                error("The request line and headers are larger than the API accepts").into(),
            );
        }
    }
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.merge(super::api_routes().into_openapi());
    add_auth_answers(&mut doc);
    // Probes and metrics live at the root, beside the API.
    let root = super::root_routes().into_openapi();
    for (path, mut item) in root.paths.paths {
        item.servers = Some(vec![Server::new("/")]);
        doc.paths.paths.insert(path, item);
    }
    if let (Some(components), Some(extra)) = (doc.components.as_mut(), root.components) {
        components.schemas.extend(extra.schemas);
    }
    add_header_limit(&mut doc);
    doc
}

/// The document as served, built once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| document().to_json().expect("the OpenAPI document is JSON"));

/// This document
#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object)))]
pub async fn serve() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
