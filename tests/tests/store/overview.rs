//! The on-call overview on every engine: runs per minute, lateness percentiles, failing,
//! paused-by-failure and stale jobs, failing alert deliveries, all on the database clock.

use wasmcron::store::overview::{OVERVIEW_BUCKET_MS, window_start};
use wasmcron::store::{FailurePolicy, PausedReason};

use super::*;

const MINUTE: i64 = 60_000;

/// A job with `failure`, claimed by [`INSTANCE`].
async fn job_with(store: &Store, name: &str, failure: FailurePolicy) -> wasmcron::store::Job {
    let created = store
        .create_job(NewJob {
            failure,
            ..NewJob::new(name, "*/5 * * * *", "hello")
        })
        .await
        .expect("create job");
    store.claim_jobs(INSTANCE, 60_000).await.expect("claim");
    let job = store.get_job(&created.id).await.unwrap().expect("job");
    assert_eq!(job.owner.as_deref(), Some(INSTANCE));
    job
}

async fn ran(store: &Store, job: &wasmcron::store::Job, at: i64, outcome: &FinishRun) {
    let id = started(store, &new_run(job, at)).await;
    store.finish_run(id, job.epoch, outcome).await.unwrap();
}

pub(super) async fn the_overview_reads_the_last_hour_on_the_database_clock(db: &Db) {
    let store = &db.store;
    let empty = store.overview().await.unwrap();
    assert_eq!(empty.minutes.len(), 60);
    assert!(empty.minutes.iter().all(|m| m.counts == [0; 6]));
    assert_eq!(empty.lateness.samples, 0);
    assert_eq!((empty.lateness.p50_ms, empty.lateness.p99_ms), (None, None));
    assert!(empty.failing.is_empty() && empty.paused.is_empty() && empty.stale.is_empty());
    assert_eq!(empty.alerts.retrying + empty.alerts.given_up, 0);

    let now = store.now_ms().await.unwrap();
    let healthy = owned_job(store, "healthy").await;
    ran(store, &healthy, now - 2 * MINUTE, &succeeded("ok")).await;
    ran(store, &healthy, now - 2 * 3_600_000, &succeeded("old")).await;
    let broken = owned_job(store, "broken").await;
    ran(store, &broken, now - 5 * MINUTE, &succeeded("ok")).await;
    ran(store, &broken, now - MINUTE, &failed("boom")).await;
    let retrying = owned_job(store, "retrying").await;
    failed_with_retry(store, &retrying, now - 3 * MINUTE, 3_600_000).await;
    let recovered = owned_job(store, "recovered").await;
    ran(store, &recovered, now - 10 * MINUTE, &failed("flaky")).await;
    ran(store, &recovered, now - 9 * MINUTE, &succeeded("ok")).await;
    // A manual run counts in its minute but not in the fire lateness.
    let id = started(
        store,
        &NewRun {
            manual: true,
            ..new_run(&healthy, now - 30 * MINUTE)
        },
    )
    .await;
    store
        .finish_run(id, healthy.epoch, &succeeded("by hand"))
        .await
        .unwrap();

    let pausing = FailurePolicy {
        pause_after_failures: Some(3),
        ..FailurePolicy::default()
    };
    let paused = job_with(store, "paused-by-failures", pausing).await;
    assert!(
        store
            .pause_for(&paused.id, PausedReason::Failures)
            .await
            .unwrap()
            .is_some()
    );
    let by_hand = owned_job(store, "paused-by-hand").await;
    store
        .update_job(
            &by_hand.id,
            &JobPatch {
                paused: Some(true),
                ..JobPatch::default()
            },
            None,
        )
        .await
        .unwrap();

    let stale_after = |ms| FailurePolicy {
        stale_after_ms: Some(ms),
        ..FailurePolicy::default()
    };
    let stale = job_with(store, "stale", stale_after(1)).await;
    let fresh = job_with(store, "fresh", stale_after(3_600_000)).await;
    ran(store, &fresh, now - 4 * MINUTE, &succeeded("ok")).await;
    wait_for_db_clock_past(store, stale.created_at_ms + 1).await;

    // Alerts: one pending after a failed attempt, one given up, one not tried yet.
    for key in ["retry", "give-up", "new"] {
        assert!(
            store
                .enqueue_alert(&alert(key, Some(key), "t"))
                .await
                .unwrap()
        );
    }
    // Claims are held by a live replica.
    store.heartbeat("a", "127.0.0.1:1", "test").await.unwrap();
    let claimed = store.claim_alerts("a", 60_000, 600_000, 2).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let retry = AlertOutcome::Retry {
        error: "hooks.example.com answered 503".into(),
        delay_ms: 3_600_000,
    };
    assert!(
        store
            .settle_alert(claimed[0].id, claimed[0].claim, &retry)
            .await
            .unwrap()
    );
    let give_up = AlertOutcome::GiveUp {
        error: "hooks.example.com refused the connection".into(),
    };
    assert!(
        store
            .settle_alert(claimed[1].id, claimed[1].claim, &give_up)
            .await
            .unwrap()
    );

    let o = store.overview().await.unwrap();
    assert!(o.now_ms >= now, "the database clock");
    assert_eq!(o.minutes.len(), 60);
    assert_eq!(o.minutes[0].start_ms, window_start(o.now_ms));
    assert!(o.minutes[59].start_ms + OVERVIEW_BUCKET_MS > o.now_ms);
    let total = |status| o.minutes.iter().map(|m| m.count(status)).sum::<i64>();
    assert_eq!(
        total(RunStatus::Succeeded),
        5,
        "the run two hours ago is outside"
    );
    assert_eq!(total(RunStatus::Failed), 3);
    let minute_of = |at: i64| {
        o.minutes
            .iter()
            .find(|m| m.start_ms <= at && at < m.start_ms + OVERVIEW_BUCKET_MS)
            .expect("in the window")
    };
    assert!(minute_of(now - MINUTE).count(RunStatus::Failed) >= 1);
    assert_eq!(minute_of(now - 30 * MINUTE).count(RunStatus::Succeeded), 1);

    // Started ticks: 1, 2, 3, 4, 5, 9 and 10 minutes late, plus the time this test took.
    assert_eq!(
        o.lateness.samples, 7,
        "first attempts of scheduled ticks only"
    );
    let p50 = o.lateness.p50_ms.expect("p50");
    let p99 = o.lateness.p99_ms.expect("p99");
    assert!((4 * MINUTE..5 * MINUTE).contains(&p50), "p50 {p50}");
    assert!((10 * MINUTE..11 * MINUTE).contains(&p99), "p99 {p99}");

    let failing: Vec<(&str, i32, RunStatus, Option<&str>)> = o
        .failing
        .iter()
        .map(|f| (f.name.as_str(), f.attempt, f.status, f.error.as_deref()))
        .collect();
    assert_eq!(
        failing,
        vec![("broken", 1, RunStatus::Failed, Some("boom"))],
        "a planned retry or a later success is not failing"
    );
    assert_eq!(o.failing[0].id, broken.id);
    assert_eq!(o.failing[0].scheduled_at_ms, now - MINUTE);

    let paused_jobs: Vec<(&str, Option<u32>)> = o
        .paused
        .iter()
        .map(|p| (p.name.as_str(), p.pause_after_failures))
        .collect();
    assert_eq!(paused_jobs, vec![("paused-by-failures", Some(3))]);

    let stale_jobs: Vec<(&str, i64, Option<i64>)> = o
        .stale
        .iter()
        .map(|s| (s.name.as_str(), s.stale_after_ms, s.last_success_ms))
        .collect();
    assert_eq!(stale_jobs, vec![("stale", 1, None)]);

    assert_eq!((o.alerts.retrying, o.alerts.given_up), (1, 1));
    assert_eq!(
        o.alerts.latest,
        Some((
            "hooks.example.com refused the connection".to_owned(),
            "hooks.example.com".to_owned()
        ))
    );

    // A success of the failing job's next tick clears it.
    ran(store, &broken, now, &succeeded("fixed")).await;
    let after = store.overview().await.unwrap();
    assert!(after.failing.is_empty(), "{:?}", after.failing);
}
