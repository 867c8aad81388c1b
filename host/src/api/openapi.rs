//! The OpenAPI 3.0 document of `/api/v1`, served at `/api/v1/openapi.json`. It is built from
//! the same route table as the router ([`ROUTES`]), and a test checks that every route the
//! router serves is described.

use axum::Json;
use serde_json::{Map, Value, json};

/// Every documented operation: (path, method, operation id).
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("/jobs", "post", "createJob"),
    ("/jobs", "get", "listJobs"),
    ("/jobs/{id}", "get", "getJob"),
    ("/jobs/{id}", "patch", "updateJob"),
    ("/jobs/{id}", "delete", "deleteJob"),
    ("/jobs/{id}/pause", "post", "pauseJob"),
    ("/jobs/{id}/resume", "post", "resumeJob"),
    ("/jobs/{id}/trigger", "post", "triggerJob"),
    ("/jobs/{id}/runs", "get", "listJobRuns"),
    ("/runs", "get", "listRuns"),
    ("/plugins", "get", "listPlugins"),
    ("/instances", "get", "listInstances"),
    ("/settings", "get", "listSettings"),
    ("/settings/effective", "get", "effectiveSettings"),
    ("/settings/{key}", "get", "getSetting"),
    ("/settings/{key}", "put", "putSetting"),
    ("/settings/{key}", "delete", "deleteSetting"),
    ("/whoami", "get", "whoami"),
    ("/tokens", "get", "listTokens"),
    ("/tokens", "post", "createToken"),
    ("/tokens/{name}", "delete", "revokeToken"),
    ("/events", "get", "streamEvents"),
    ("/openapi.json", "get", "openapi"),
];

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": content(schema)})
}

fn error(description: &str) -> Value {
    ok(description, reference("Error"))
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn limit() -> Value {
    query(
        "limit",
        "page size (default 100)",
        json!({"type": "integer", "minimum": 1, "maximum": 1000}),
    )
}

/// Errors every operation may answer.
fn common_errors(responses: &mut Map<String, Value>) {
    responses.insert("401".into(), error("missing or invalid bearer token"));
    responses.insert(
        "403".into(),
        error("the token has the read role and this is a change (or the token list)"),
    );
    responses.insert("503".into(), error("the database is unreachable"));
}

fn operation(
    id: &str,
    summary: &str,
    params: Vec<Value>,
    mut responses: Map<String, Value>,
) -> Value {
    common_errors(&mut responses);
    json!({"operationId": id, "summary": summary, "parameters": params, "responses": responses})
}

fn responses(items: &[(&str, Value)]) -> Map<String, Value> {
    items
        .iter()
        .map(|(code, v)| (code.to_string(), v.clone()))
        .collect()
}

fn with_body(mut op: Value, schema: Value) -> Value {
    op["requestBody"] = json!({"required": true, "content": content(schema)});
    op
}

fn job_id() -> Value {
    path_param("id", "job id or name")
}

fn run_filters() -> Vec<Value> {
    vec![
        query(
            "status",
            "only runs with this status",
            json!({"type": "string", "enum": ["running", "succeeded", "failed", "timed_out", "skipped", "missed"]}),
        ),
        query(
            "from",
            "ticks scheduled at or after (RFC 3339)",
            json!({"type": "string", "format": "date-time"}),
        ),
        query(
            "to",
            "ticks scheduled before (RFC 3339)",
            json!({"type": "string", "format": "date-time"}),
        ),
        limit(),
        query(
            "before",
            "cursor: `next` of the previous page",
            json!({"type": "string"}),
        ),
    ]
}

fn paths() -> Value {
    let job_body_errors = || {
        vec![
            (
                "400",
                error("invalid JSON, unknown or invalid field (named in `field`)"),
            ),
            ("413", error("request body too large")),
        ]
    };
    let mut create = responses(&[("201", ok("the created job", reference("Job")))]);
    create.extend(responses(&job_body_errors()));
    create.insert("409".into(), error("a job with this name exists"));
    let mut update = responses(&[("200", ok("the updated job", reference("Job")))]);
    update.extend(responses(&job_body_errors()));
    update.insert("404".into(), error("no such job"));
    update.insert("409".into(), error("a job with this name exists"));
    let job_or_404 = |summary: &str| {
        responses(&[
            ("200", ok(summary, reference("Job"))),
            ("404", error("no such job")),
        ])
    };
    let mut put_setting = responses(&[
        ("200", ok("the stored setting", reference("Setting"))),
        ("400", error("unknown key or invalid value")),
        ("413", error("request body too large")),
    ]);
    put_setting.insert("404".into(), error("no such route"));
    json!({
        "/jobs": {
            "post": with_body(operation("createJob", "Create a job", vec![], create), reference("JobCreate")),
            "get": operation("listJobs", "List jobs by name", vec![
                query("plugin", "only jobs of this plugin", json!({"type": "string"})),
                query("status", "only active or paused jobs", json!({"type": "string", "enum": ["active", "paused"]})),
                limit(),
                query("after", "cursor: `next` of the previous page", json!({"type": "string"})),
            ], responses(&[("200", ok("a page of jobs", reference("JobPage"))), ("400", error("invalid filter"))])),
        },
        "/jobs/{id}": {
            "get": operation("getJob", "Read a job", vec![job_id()], job_or_404("the job")),
            "patch": with_body(operation("updateJob", "Edit some fields of a job (bumps version)", vec![job_id()], update), reference("JobPatch")),
            "delete": operation("deleteJob", "Delete a job with its runs and state", vec![job_id()],
                responses(&[("204", json!({"description": "deleted"})), ("404", error("no such job"))])),
        },
        "/jobs/{id}/pause": {"post": operation("pauseJob", "Pause a job", vec![job_id()], job_or_404("the paused job"))},
        "/jobs/{id}/resume": {"post": operation("resumeJob", "Resume a job", vec![job_id()], job_or_404("the resumed job"))},
        "/jobs/{id}/trigger": {"post": operation("triggerJob", "Run a job now (a manual tick at the current instant)", vec![job_id()],
            responses(&[
                ("202", ok("the tick that the job's owner will run", reference("Trigger"))),
                ("404", error("no such job")),
                ("409", error("the overlap policy forbids a run now")),
            ]))},
        "/jobs/{id}/runs": {"get": operation("listJobRuns", "Runs of a job, newest first", {
            let mut p = vec![job_id()];
            p.extend(run_filters());
            p
        }, responses(&[("200", ok("a page of runs", reference("RunPage"))), ("400", error("invalid filter")), ("404", error("no such job"))]))},
        "/runs": {"get": operation("listRuns", "Runs of all jobs, newest first", {
            let mut p = vec![query("job", "only runs of this job (id or name)", json!({"type": "string"}))];
            p.extend(run_filters());
            p
        }, responses(&[("200", ok("a page of runs", reference("RunPage"))), ("400", error("invalid filter")), ("404", error("no such job"))]))},
        "/plugins": {"get": operation("listPlugins", "Plugins of this replica's plugins directory", vec![],
            responses(&[("200", ok("plugins", json!({"type": "array", "items": reference("Plugin")})))]))},
        "/instances": {"get": operation("listInstances", "Live replicas", vec![],
            responses(&[("200", ok("replicas", json!({"type": "array", "items": reference("Instance")})))]))},
        "/settings": {"get": operation("listSettings", "Every cluster setting that is set", vec![],
            responses(&[("200", ok("settings by key", json!({"type": "object", "additionalProperties": true})))]))},
        "/settings/effective": {"get": operation("effectiveSettings", "The values this replica applies now (its settings cache)", vec![],
            responses(&[("200", ok("effective settings", reference("EffectiveSettings")))]))},
        "/whoami": {"get": operation("whoami", "The identity and role of the presented token", vec![],
            responses(&[("200", ok("who is asking", reference("WhoAmI")))]))},
        "/tokens": {
            "get": operation("listTokens", "Every named API token (admins only; never the secrets)", vec![],
                responses(&[("200", ok("the tokens", reference("TokenList")))])),
            "post": with_body(operation("createToken", "Create a named API token; its secret is shown once", vec![],
                responses(&[
                    ("201", ok("the token, with its secret", reference("NewTokenSecret"))),
                    ("400", error("invalid name or role")),
                    ("409", error("a token of that name exists, or tokens are not enabled")),
                    ("413", error("request body too large")),
                ])), reference("NewToken")),
        },
        "/tokens/{name}": {"delete": operation("revokeToken", "Revoke a token: every replica refuses it within a second", vec![path_param("name", "token name")],
            responses(&[("204", json!({"description": "revoked"})), ("404", error("no such token"))]))},
        "/settings/{key}": {
            "get": operation("getSetting", "Read a setting", vec![path_param("key", "setting key")],
                responses(&[("200", ok("the setting", reference("Setting"))), ("404", error("not set"))])),
            "put": with_body(operation("putSetting", "Set a setting", vec![path_param("key", "setting key")], put_setting), reference("SettingValue")),
            "delete": operation("deleteSetting", "Unset a setting (its default applies)", vec![path_param("key", "setting key")],
                responses(&[("204", json!({"description": "unset"}))])),
        },
        "/events": {"get": operation("streamEvents", "Server-Sent Events of the whole cluster", vec![
            query("after", "resume after this event id (as Last-Event-ID)", json!({"type": "integer", "minimum": 0})),
            query("kind", &format!("comma-separated kinds to keep: {}", crate::events::Event::KINDS.join(", ")), json!({"type": "string"})),
            json!({"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "integer", "minimum": 0}}),
        ], responses(&[
            ("200", json!({"description": "an endless event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}})),
            ("400", error("invalid cursor or kind")),
        ]))},
        "/openapi.json": {"get": operation("openapi", "This document", vec![],
            responses(&[("200", ok("OpenAPI 3.0 document", json!({"type": "object"})))]))},
    })
}

fn job_fields(required: &[&str]) -> Value {
    let duration =
        || json!({"type": "string", "description": "a duration such as 30s, 5m or 1h30m"});
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$", "example": "nightly-report"},
            "schedule": {"type": "string", "description": "cron expression (5 or 6 fields), @hourly…, or @every <duration>", "example": "*/5 * * * *"},
            "timezone": {"type": "string", "description": "IANA time zone (default UTC)", "example": "Europe/Paris"},
            "plugin": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$", "example": "hello"},
            "input": {"description": "any JSON, handed to the plugin"},
            "config": {"type": "object", "additionalProperties": {"type": "string"}},
            "overlap": {"type": "string", "enum": ["skip", "allow", "queue"]},
            "misfire": {"type": "string", "enum": ["skip", "run_once", "run_all"]},
            "catchup_window": duration(),
            "jitter": duration(),
            "timeout": duration(),
            "memory_limit": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}], "description": "bytes, or a size such as 64MiB"},
            "allowed_hosts": {"type": "array", "items": {"type": "string"}},
            "paused": {"type": "boolean"},
        },
    });
    // OpenAPI 3.0 wants `required` absent rather than empty.
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn nullable(schema: Value) -> Value {
    let mut s = schema;
    s["nullable"] = json!(true);
    s
}

fn schemas() -> Value {
    let string = || json!({"type": "string"});
    let time = || json!({"type": "string", "format": "date-time"});
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": string(), "message": string(), "field": string()},
            }},
        },
        "JobCreate": job_fields(&["name", "schedule", "plugin"]),
        "JobPatch": job_fields(&[]),
        "Job": {
            "type": "object",
            "required": ["id", "name", "schedule", "timezone", "plugin", "status", "version"],
            "properties": {
                "id": string(), "name": string(), "schedule": string(),
                "schedule_description": string(), "timezone": string(), "plugin": string(),
                "input": {}, "config": {"type": "object", "additionalProperties": {"type": "string"}},
                "overlap": string(), "misfire": string(), "catchup_window": string(),
                "jitter": string(), "timeout": nullable(string()),
                "memory_limit": nullable(json!({"type": "integer"})),
                "allowed_hosts": {"type": "array", "items": string()},
                "status": {"type": "string", "enum": ["active", "paused"]},
                "owner": nullable(string()), "version": {"type": "integer"},
                "next_tick_at": nullable(time()),
                "last_run": nullable(reference("Run")),
                "created_at": time(), "updated_at": time(),
                "warning": {"type": "string", "description": "set when the job's plugin is not loaded (yet)"},
            },
        },
        "JobPage": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": reference("Job")}, "next": nullable(string())}},
        "Run": {
            "type": "object",
            "required": ["id", "job_id", "scheduled_at", "status", "attempt", "catch_up", "manual"],
            "properties": {
                "id": {"type": "integer"}, "job_id": string(), "scheduled_at": time(),
                "started_at": nullable(time()), "finished_at": nullable(time()),
                "duration_ms": nullable(json!({"type": "integer"})),
                "status": {"type": "string", "enum": ["running", "succeeded", "failed", "timed_out", "skipped", "missed"]},
                "reason": nullable(string()), "result": nullable(string()), "error": nullable(string()),
                "logs": nullable(string()), "instance_id": nullable(string()),
                "plugin_digest": nullable(string()), "attempt": {"type": "integer"},
                "catch_up": {"type": "boolean"}, "manual": {"type": "boolean"},
            },
        },
        "RunPage": {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": reference("Run")}, "next": nullable(string())}},
        "Trigger": {"type": "object", "required": ["job_id", "scheduled_at", "manual", "status"], "properties": {
            "job_id": string(), "job": string(), "scheduled_at": time(), "manual": {"type": "boolean"},
            "status": {"type": "string", "enum": ["queued"]}, "owner": nullable(string())}},
        "Plugin": {"type": "object", "required": ["name", "size"], "properties": {
            "name": string(), "digest": nullable(string()), "size": {"type": "integer"},
            "loaded_at": nullable(time()), "error": nullable(string())}},
        "Instance": {"type": "object", "required": ["id", "address", "version", "jobs"], "properties": {
            "id": string(), "address": string(), "version": string(), "started_at": time(),
            "last_heartbeat": time(), "jobs": {"type": "integer"},
            "leader": {"type": "boolean", "description": "holds the housekeeping lease"}}},
        "Setting": {"type": "object", "required": ["key", "value"], "properties": {"key": string(), "value": {}}},
        "EffectiveSettings": {"type": "object", "required": ["instance", "age_ms", "ttl_ms", "tokens", "settings"], "properties": {
            "instance": string(), "age_ms": {"type": "integer"}, "ttl_ms": {"type": "integer"},
            "tokens": {"type": "integer"}, "settings": {"type": "object", "additionalProperties": true}}},
        "WhoAmI": {"type": "object", "required": ["auth_required", "name", "role"], "properties": {
            "auth_required": {"type": "boolean"}, "name": nullable(string()),
            "role": {"type": "string", "enum": ["admin", "read"]}}},
        "Token": {"type": "object", "required": ["name", "role", "created_at", "created_by", "last_used_at"], "properties": {
            "name": string(), "role": {"type": "string", "enum": ["admin", "read"]}, "created_at": time(),
            "created_by": nullable(string()), "last_used_at": nullable(time())}},
        "TokenList": {"type": "object", "required": ["tokens"], "properties": {
            "tokens": {"type": "array", "items": reference("Token")}}},
        "NewToken": {"type": "object", "additionalProperties": false, "required": ["name", "role"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._-]+$"},
            "role": {"type": "string", "enum": ["admin", "read"]}}},
        "NewTokenSecret": {"type": "object", "required": ["name", "role", "created_at", "token"], "properties": {
            "name": string(), "role": {"type": "string", "enum": ["admin", "read"]}, "created_at": time(),
            "created_by": nullable(string()), "last_used_at": nullable(time()), "token": string()}},
        "SettingValue": {"type": "object", "additionalProperties": false, "required": ["value"], "properties": {"value": {}}},
    })
}

/// The whole document.
pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "wasmcron",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A highly available cron host that runs every job as a sandboxed WebAssembly component. Every replica answers for the whole cluster.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{}, {"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        },
    })
}

pub async fn serve() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_refs_resolve() {
        let doc = document();
        for (path, method, id) in ROUTES {
            let op = &doc["paths"][path][method];
            assert_eq!(op["operationId"], *id, "{method} {path} is not documented");
        }
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "dangling $ref {name}"
            );
        }
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, ROUTES.len());
    }
}
