//! Every answer and body type of the API decodes what it encodes: the command-line client
//! reads the API's answers (and writes its bodies) with these same types, so a serde attribute
//! that writes one shape and reads another (flatten, skip_serializing_if, rename, transparent)
//! would break the client without changing the wire. Each test pins the JSON too.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::system::{InstanceView, PluginView};
use super::trigger::TriggerStatus;
use super::views::{JobStatus, RetryView};
use super::*;
use crate::schedule::{MisfirePolicy, OverlapPolicy};
use crate::settings::Role;
use crate::store::{PausedReason, RunReason, RunStatus};

/// `value` is written as `wire`, and `wire`, read from its text, is `value` again.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T, wire: Value) {
    let text = serde_json::to_string(&value).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), wire);
    assert_eq!(serde_json::from_str::<T>(&text).unwrap(), value);
}

const AT: &str = "2026-01-01T00:00:00.000Z";

fn token(last_used_at: Option<&str>) -> TokenView {
    TokenView {
        name: "ci".into(),
        role: Role::Read,
        created_at: AT.into(),
        created_by: Some("bootstrap".into()),
        last_used_at: last_used_at.map(Into::into),
    }
}

fn run(status: RunStatus, reason: Option<RunReason>) -> RunView {
    RunView {
        id: 7,
        job_id: "j1".into(),
        scheduled_at: AT.into(),
        started_at: Some(AT.into()),
        finished_at: None,
        duration_ms: None,
        status,
        reason,
        result: None,
        error: Some("no".into()),
        logs: None,
        instance_id: Some("r1".into()),
        plugin_digest: None,
        attempt: 1,
        catch_up: false,
        manual: true,
    }
}

fn run_json(status: &str, reason: Value) -> Value {
    json!({"id": 7, "job_id": "j1", "scheduled_at": AT, "started_at": AT, "finished_at": null,
           "duration_ms": null, "status": status, "reason": reason, "result": null,
           "error": "no", "logs": null, "instance_id": "r1", "plugin_digest": null,
           "attempt": 1, "catch_up": false, "manual": true})
}

fn job(warning: Option<&str>, last_run: Option<RunView>) -> JobView {
    JobView {
        id: "j1".into(),
        name: "greeter".into(),
        schedule: "*/5 * * * *".into(),
        schedule_description: "every 5 minutes".into(),
        timezone: "UTC".into(),
        plugin: "greeter".into(),
        input: json!({"who": "world"}),
        config: BTreeMap::from([("mode".to_string(), "loud".to_string())]),
        secrets: BTreeMap::from([("TOKEN".to_string(), "api-token".to_string())]),
        managed_by: Some("/etc/wasmcron/jobs/jobs.yaml".into()),
        overlap: OverlapPolicy::Queue,
        misfire: MisfirePolicy::RunAll,
        catchup_window: "1h".into(),
        jitter: "0s".into(),
        timeout: None,
        memory_limit: Some(1 << 20),
        allowed_hosts: vec!["example.com".into()],
        retry: Some(RetryView {
            attempts: 3,
            backoff: "10s".into(),
            max_backoff: "1h".into(),
        }),
        pause_after_failures: Some(5),
        stale_after: None,
        status: JobStatus::Paused,
        paused_reason: Some(PausedReason::Failures),
        stale: false,
        last_success_at: None,
        owner: None,
        version: 3,
        next_tick_at: None,
        last_run,
        created_at: AT.into(),
        updated_at: AT.into(),
        warning: warning.map(Into::into),
    }
}

fn job_json(last_run: Value) -> Value {
    json!({"id": "j1", "name": "greeter", "schedule": "*/5 * * * *",
           "schedule_description": "every 5 minutes", "timezone": "UTC", "plugin": "greeter",
           "input": {"who": "world"}, "config": {"mode": "loud"}, "secrets": {"TOKEN": "api-token"},
           "managed_by": "/etc/wasmcron/jobs/jobs.yaml", "overlap": "queue",
           "misfire": "run_all", "catchup_window": "1h", "jitter": "0s", "timeout": null,
           "memory_limit": 1048576, "allowed_hosts": ["example.com"],
           "retry": {"attempts": 3, "backoff": "10s", "max_backoff": "1h"},
           "pause_after_failures": 5, "stale_after": null, "status": "paused",
           "paused_reason": "failures", "stale": false, "last_success_at": null,
           "owner": null, "version": 3, "next_tick_at": null, "last_run": last_run,
           "created_at": AT, "updated_at": AT})
}

#[test]
fn jobs_and_their_pages_round_trip() {
    round_trip(job(None, None), job_json(Value::Null));
    let mut warned = job_json(run_json("skipped", json!("overlap")));
    warned["warning"] = json!("plugin \"greeter\" is not loaded");
    round_trip(
        job(
            Some("plugin \"greeter\" is not loaded"),
            Some(run(RunStatus::Skipped, Some(RunReason::Overlap))),
        ),
        warned,
    );
    round_trip(
        Page {
            items: vec![job(None, None)],
            next: Some("cursor".into()),
        },
        json!({"items": [job_json(Value::Null)], "next": "cursor"}),
    );
}

#[test]
fn runs_and_their_pages_round_trip() {
    round_trip(
        run(RunStatus::Failed, None),
        run_json("failed", Value::Null),
    );
    round_trip(
        Page {
            items: vec![run(RunStatus::Missed, Some(RunReason::CatchupWindow))],
            next: None,
        },
        json!({"items": [run_json("missed", json!("catchup_window"))], "next": null}),
    );
}

#[test]
fn a_trigger_round_trips() {
    round_trip(
        TriggerView {
            job_id: "j1".into(),
            job: "greeter".into(),
            scheduled_at: AT.into(),
            manual: true,
            status: TriggerStatus::Queued,
            owner: Some("r1".into()),
        },
        json!({"job_id": "j1", "job": "greeter", "scheduled_at": AT, "manual": true,
               "status": "queued", "owner": "r1"}),
    );
}

#[test]
fn plugins_and_instances_round_trip() {
    round_trip(
        PluginView {
            name: "greeter".into(),
            digest: Some("sha256:00".into()),
            size: 1234,
            loaded_at: Some(AT.into()),
            error: None,
        },
        json!({"name": "greeter", "digest": "sha256:00", "size": 1234, "loaded_at": AT,
               "error": null}),
    );
    round_trip(
        PluginView {
            name: "broken".into(),
            digest: None,
            size: 3,
            loaded_at: None,
            error: Some("not a component".into()),
        },
        json!({"name": "broken", "digest": null, "size": 3, "loaded_at": null,
               "error": "not a component"}),
    );
    round_trip(
        InstanceView {
            id: "r1".into(),
            address: "http://10.0.0.1:8080".into(),
            version: "1.2.3".into(),
            started_at: AT.into(),
            last_heartbeat: AT.into(),
            jobs: 4,
            leader: true,
        },
        json!({"id": "r1", "address": "http://10.0.0.1:8080", "version": "1.2.3",
               "started_at": AT, "last_heartbeat": AT, "jobs": 4, "leader": true}),
    );
}

#[test]
fn settings_round_trip() {
    round_trip(
        Setting {
            key: "runs.retention".into(),
            value: json!("2d"),
        },
        json!({"key": "runs.retention", "value": "2d"}),
    );
    round_trip(
        SettingMap(BTreeMap::from([
            ("runs.retention".to_string(), json!("2d")),
            ("scheduler.paused".to_string(), json!(true)),
        ])),
        json!({"runs.retention": "2d", "scheduler.paused": true}),
    );
    round_trip(SettingMap(BTreeMap::new()), json!({}));
    round_trip(
        SettingValue {
            value: json!({"nested": [1, null]}),
        },
        json!({"value": {"nested": [1, null]}}),
    );
    round_trip(
        EffectiveSettings {
            instance: "r1".into(),
            age_ms: 12,
            ttl_ms: 5000,
            tokens: 2,
            settings: json!({"scheduler.paused": false}),
        },
        json!({"instance": "r1", "age_ms": 12, "ttl_ms": 5000, "tokens": 2,
               "settings": {"scheduler.paused": false}}),
    );
}

#[test]
fn tokens_round_trip() {
    round_trip(
        WhoAmI {
            auth_required: false,
            name: None,
            role: Role::Admin,
        },
        json!({"auth_required": false, "name": null, "role": "admin"}),
    );
    round_trip(
        WhoAmI {
            auth_required: true,
            name: Some("ci".into()),
            role: Role::Read,
        },
        json!({"auth_required": true, "name": "ci", "role": "read"}),
    );
    let token_json = |last_used_at: Value| {
        json!({"name": "ci", "role": "read", "created_at": AT, "created_by": "bootstrap",
               "last_used_at": last_used_at})
    };
    round_trip(token(Some(AT)), token_json(json!(AT)));
    round_trip(
        TokenList {
            tokens: vec![token(None), token(Some(AT))],
        },
        json!({"tokens": [token_json(Value::Null), token_json(json!(AT))]}),
    );
    // The view is flattened beside the secret, whose field is also named "token".
    let mut created = token_json(Value::Null);
    created["token"] = json!("wcr_secret");
    round_trip(
        CreatedToken {
            view: token(None),
            token: "wcr_secret".into(),
        },
        created,
    );
    round_trip(
        NewToken {
            name: "ci".into(),
            role: "read".into(),
        },
        json!({"name": "ci", "role": "read"}),
    );
}

#[test]
fn errors_round_trip_with_and_without_a_field() {
    round_trip(
        ApiError::invalid("limit", "limit must be from 1 to 1000").body(),
        json!({"error": {"code": "invalid_field", "message": "limit must be from 1 to 1000",
                         "field": "limit"}}),
    );
    round_trip(
        ApiError::not_found("no such API route").body(),
        json!({"error": {"code": "not_found", "message": "no such API route"}}),
    );
}

#[test]
fn an_event_message_round_trips() {
    round_trip(
        EventMessage {
            id: 7,
            at: AT.into(),
            kind: "token.changed".into(),
            data: json!({"change": "created"}),
        },
        json!({"id": 7, "at": AT, "kind": "token.changed", "data": {"change": "created"}}),
    );
}
