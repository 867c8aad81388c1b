//! What a job operation records in the audit log: the job's user fields (what its owner
//! wrote, not the host's bookkeeping: owner, epoch, version, anchor, timestamps), and of an
//! edit only the fields that changed, before and after.

use serde_json::{Map, Value};

use crate::store::{Actor, AuditAction, Job, NewAudit, Store};

/// Fields of a stored job that are the host's bookkeeping, not what a user wrote.
const BOOKKEEPING: &[&str] = &[
    "id",
    "owner",
    "epoch",
    "version",
    "anchor_ms",
    "created_at_ms",
    "updated_at_ms",
];

/// The user fields of `job`, as JSON.
pub(super) fn user_fields(job: &Job) -> Map<String, Value> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(job) else {
        return Map::new();
    };
    for key in BOOKKEEPING {
        fields.remove(*key);
    }
    fields
}

/// The fields that differ between `before` and `after`: `(their values before, after)`.
pub(super) fn changed(before: &Job, after: &Job) -> (Value, Value) {
    let (old, new) = (user_fields(before), user_fields(after));
    let mut was = Map::new();
    let mut is = Map::new();
    for (key, value) in &new {
        let previous = old.get(key).cloned().unwrap_or(Value::Null);
        if previous != *value {
            was.insert(key.clone(), previous);
            is.insert(key.clone(), value.clone());
        }
    }
    (Value::Object(was), Value::Object(is))
}

/// A job's entry.
pub(super) fn entry(
    actor: &Actor,
    action: AuditAction,
    job: &Job,
    before: Option<Value>,
    after: Option<Value>,
) -> NewAudit {
    NewAudit {
        actor: actor.clone(),
        action,
        job_id: Some(job.id.clone()),
        target: job.name.clone(),
        before,
        after,
    }
}

/// Records `entry` right after its change was stored. A failure is logged, not returned: the
/// change itself stands, and the caller is told it was made. (The API records settings and
/// token changes through this too.)
pub(crate) async fn record(store: &Store, entry: &NewAudit) {
    if let Err(e) = store.record_audit(entry).await {
        tracing::warn!(
            error = %e,
            action = %entry.action,
            target = %entry.target,
            actor = %entry.actor,
            "cannot record a change in the audit log"
        );
    }
}

/// Records `entries` (made by one operation) right after their changes were stored, as
/// [`record`] does one.
pub(crate) async fn record_all(store: &Store, entries: &[NewAudit]) {
    if let Err(e) = store.record_audits(entries).await {
        tracing::warn!(
            error = %e,
            entries = entries.len(),
            "cannot record changes in the audit log"
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::PausedReason;

    fn job() -> Job {
        serde_json::from_value(json!({
            "id": "j1", "name": "backup", "schedule": "@every 1m", "timezone": "UTC",
            "plugin": "noop", "input": null, "config": {}, "secrets": {}, "paused": false,
            "paused_reason": null, "overlap": "skip", "misfire": "run_once",
            "catchup_window_ms": 0, "jitter_ms": 0, "timeout_ms": null,
            "memory_limit_bytes": null, "allowed_hosts": [], "failure": {},
            "owner": "r1", "epoch": 3, "version": 2, "anchor_ms": 5,
            "created_at_ms": 1, "updated_at_ms": 5
        }))
        .expect("a job")
    }

    #[test]
    fn user_fields_leave_out_the_bookkeeping() {
        let fields = user_fields(&job());
        assert_eq!(fields["name"], json!("backup"));
        assert_eq!(fields["schedule"], json!("@every 1m"));
        for key in BOOKKEEPING {
            assert!(!fields.contains_key(*key), "{key}");
        }
    }

    #[test]
    fn only_changed_fields_are_kept() {
        let before = job();
        let mut after = job();
        after.schedule = "@every 5m".into();
        after.paused = true;
        after.paused_reason = Some(PausedReason::Failures);
        after.version = 3;
        after.owner = None;
        assert_eq!(
            changed(&before, &after),
            (
                json!({"schedule": "@every 1m", "paused": false, "paused_reason": null}),
                json!({"schedule": "@every 5m", "paused": true, "paused_reason": "failures"}),
            )
        );
        assert_eq!(changed(&before, &before), (json!({}), json!({})));
    }
}
