//! Plans and their application, over a real SQLite store.

use serde_json::json;

use super::*;
use crate::events::Publisher;
use crate::jobs::ChangeSignal;
use crate::store::{Store, StoreError};

const FILE: &str = "/etc/wasmcron/jobs/jobs.yaml";

async fn jobs(dir: &std::path::Path) -> Jobs {
    let store = Store::connect(&format!("sqlite://{}", dir.join("db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (events, _writer) = Publisher::new(store.clone());
    Jobs::new(store, "test", ChangeSignal::default(), events)
}

fn entries(value: serde_json::Value) -> Vec<NewJob> {
    let fields: Vec<JobFields> = serde_json::from_value(value).unwrap();
    check_entries(&fields).unwrap()
}

async fn plan_and_apply(jobs: &Jobs, list: serde_json::Value, prune: bool) -> Plan {
    let plan = jobs
        .plan(FILE, entries(list), prune, Foreign::Refuse)
        .await
        .unwrap();
    jobs.apply(&plan, &Actor::JobsFile).await.unwrap();
    plan
}

#[tokio::test]
async fn a_list_creates_updates_and_prunes_only_its_own_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs(dir.path()).await;
    let api_made = jobs
        .create(
            &serde_json::from_value(
                json!({"name": "manual", "schedule": "@hourly", "plugin": "p"}),
            )
            .unwrap(),
            &Actor::Bootstrap,
        )
        .await
        .unwrap();
    let v1 = json!([
        {"name": "a", "schedule": "@every 1m", "plugin": "hello"},
        {"name": "b", "schedule": "@every 5m", "plugin": "hello", "timeout": "10s"},
    ]);
    let plan = plan_and_apply(&jobs, v1.clone(), true).await;
    assert_eq!(plan.counts(), (2, 0, 0));
    let a = jobs.find("a").await.unwrap();
    assert_eq!((a.managed_by.as_deref(), a.version), (Some(FILE), 1));

    // The same list again changes nothing: no version moves.
    let again = plan_and_apply(&jobs, v1, true).await;
    assert_eq!((again.counts(), again.unchanged), ((0, 0, 0), 2));
    assert_eq!(jobs.find("a").await.unwrap().version, 1);

    // A paused job stays paused when its list is applied again, even with other edits.
    jobs.set_paused("b", true, &Actor::Bootstrap).await.unwrap();
    let v2 = json!([
        {"name": "b", "schedule": "@every 5m", "plugin": "hello", "timeout": "20s"},
        {"name": "c", "schedule": "@daily", "plugin": "report"},
    ]);
    let plan = plan_and_apply(&jobs, v2, true).await;
    assert_eq!(plan.counts(), (1, 1, 1));
    let update = plan
        .changes
        .iter()
        .find(|c| c.action == ChangeKind::Update)
        .unwrap();
    assert_eq!(update.name, "b");
    assert_eq!(
        update.fields.keys().collect::<Vec<_>>(),
        vec!["timeout_ms"],
        "only the changed field"
    );
    assert_eq!(update.fields["timeout_ms"].before, json!(10_000));
    assert_eq!(update.fields["timeout_ms"].after, json!(20_000));
    let b = jobs.find("b").await.unwrap();
    assert!(b.paused, "a re-applied list does not undo a pause");
    assert_eq!(b.timeout_ms, Some(20_000));
    assert!(matches!(jobs.find("a").await, Err(JobError::NotFound(_))));
    // The API-made job is never touched.
    assert_eq!(jobs.find("manual").await.unwrap().version, api_made.version);

    // Without pruning, a job no longer listed stays.
    let plan = plan_and_apply(&jobs, json!([]), false).await;
    assert_eq!(plan.counts(), (0, 0, 0));
    assert!(jobs.find("c").await.is_ok());
}

#[tokio::test]
async fn a_name_taken_by_a_job_of_another_source_is_an_error_for_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs(dir.path()).await;
    let manual = json!({"name": "manual", "schedule": "@hourly", "plugin": "p"});
    jobs.create(
        &serde_json::from_value(manual.clone()).unwrap(),
        &Actor::Bootstrap,
    )
    .await
    .unwrap();
    let list = json!([{"name": "x", "schedule": "@hourly", "plugin": "p"}, manual]);
    let refused = jobs
        .plan(FILE, entries(list.clone()), true, Foreign::Refuse)
        .await
        .unwrap_err();
    let PlanError::Entry(e) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        (e.index, e.name.as_deref(), e.field.as_str()),
        (2, Some("manual"), "name")
    );
    assert!(e.message.contains("made through the API"), "{e}");
    // `job apply` leaves an identical job alone, and refuses to change it.
    let plan = jobs
        .plan("jobs.yaml", entries(list), true, Foreign::IfDifferent)
        .await
        .unwrap();
    assert_eq!((plan.counts(), plan.unchanged), ((1, 0, 0), 1));
    let changed = json!([{"name": "manual", "schedule": "@daily", "plugin": "p"}]);
    assert!(matches!(
        jobs.plan("jobs.yaml", entries(changed), true, Foreign::IfDifferent)
            .await,
        Err(PlanError::Entry(_))
    ));
}

#[tokio::test]
async fn a_managed_job_refuses_spec_edits_but_not_operations() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs(dir.path()).await;
    plan_and_apply(
        &jobs,
        json!([{"name": "a", "schedule": "@hourly", "plugin": "p"}]),
        true,
    )
    .await;
    let edit: JobFields = serde_json::from_value(json!({"schedule": "@daily"})).unwrap();
    let refused = jobs
        .update("a", &edit, &Actor::Bootstrap)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, JobError::Managed { job, by } if job == "a" && by == FILE),
        "{refused:?}"
    );
    assert!(matches!(
        jobs.delete("a", &Actor::Bootstrap).await,
        Err(JobError::Managed { .. })
    ));
    let pause: JobFields = serde_json::from_value(json!({"paused": true})).unwrap();
    assert!(
        jobs.update("a", &pause, &Actor::Bootstrap)
            .await
            .unwrap()
            .paused
    );
    assert!(
        !jobs
            .set_paused("a", false, &Actor::Bootstrap)
            .await
            .unwrap()
            .paused
    );
    jobs.trigger("a", &Actor::Bootstrap).await.unwrap();
}

#[tokio::test]
async fn a_job_edited_after_planning_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs(dir.path()).await;
    plan_and_apply(
        &jobs,
        json!([{"name": "a", "schedule": "@hourly", "plugin": "p"}]),
        true,
    )
    .await;
    let plan = jobs
        .plan(
            FILE,
            entries(json!([{"name": "a", "schedule": "@daily", "plugin": "p"}])),
            true,
            Foreign::Refuse,
        )
        .await
        .unwrap();
    // Another applier got there first.
    plan_and_apply(
        &jobs,
        json!([{"name": "a", "schedule": "@weekly", "plugin": "p"}]),
        true,
    )
    .await;
    let e = jobs.apply(&plan, &Actor::JobsFile).await.unwrap_err();
    assert!(
        matches!(e, JobError::Store(StoreError::VersionConflict { .. })),
        "{e:?}"
    );
    assert_eq!(jobs.find("a").await.unwrap().schedule, "@weekly");
}
