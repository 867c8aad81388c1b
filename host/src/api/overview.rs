//! `/api/v1/overview`: the on-call overview of the cluster, computed by the database on its
//! clock: runs per minute by status over the last hour, fire lateness percentiles, and what
//! needs attention (failing, paused-by-failure and stale jobs, failing alert deliveries).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::state::ApiState;
use super::views::instant;
use crate::schedule::format_duration;
use crate::store::RunStatus;
use crate::store::overview::{FailingJob, MinuteCounts, Overview, PausedJob, StaleJob};

/// The runs of one minute, by status (each run is one attempt of a tick).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MinuteView {
    /// The minute's first instant; runs are counted by their tick's instant.
    #[schema(format = DateTime)]
    pub start: String,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub timed_out: i64,
    pub skipped: i64,
    pub missed: i64,
}

impl From<MinuteCounts> for MinuteView {
    fn from(m: MinuteCounts) -> Self {
        MinuteView {
            start: instant(m.start_ms),
            running: m.count(RunStatus::Running),
            succeeded: m.count(RunStatus::Succeeded),
            failed: m.count(RunStatus::Failed),
            timed_out: m.count(RunStatus::TimedOut),
            skipped: m.count(RunStatus::Skipped),
            missed: m.count(RunStatus::Missed),
        }
    }
}

/// Fire lateness (started minus scheduled) of the first attempts of the scheduled ticks of
/// the last hour that started.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatenessView {
    /// How many starts were measured (at most the newest 100,000).
    pub samples: i64,
    /// Median; null without samples.
    #[schema(required = true)]
    pub p50_ms: Option<i64>,
    /// 99th percentile (nearest rank); null without samples.
    #[schema(required = true)]
    pub p99_ms: Option<i64>,
}

/// A job whose newest tick's last attempt failed or timed out, with no attempt of it left.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailingJobView {
    pub id: String,
    pub name: String,
    /// The tick.
    #[schema(format = DateTime)]
    pub scheduled_at: String,
    /// Its last attempt.
    pub attempt: i32,
    /// failed or timed_out.
    pub status: RunStatus,
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub finished_at: Option<String>,
}

impl From<FailingJob> for FailingJobView {
    fn from(j: FailingJob) -> Self {
        FailingJobView {
            id: j.id,
            name: j.name,
            scheduled_at: instant(j.scheduled_at_ms),
            attempt: j.attempt,
            status: j.status,
            error: j.error,
            finished_at: j.finished_at_ms.map(instant),
        }
    }
}

/// A job the host paused after `pause_after_failures` consecutive failed ticks.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PausedJobView {
    pub id: String,
    pub name: String,
    /// Its threshold as set now.
    #[schema(required = true)]
    pub pause_after_failures: Option<u32>,
    /// When the job last changed (its pause, unless edited since).
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<PausedJob> for PausedJobView {
    fn from(j: PausedJob) -> Self {
        PausedJobView {
            id: j.id,
            name: j.name,
            pause_after_failures: j.pause_after_failures,
            updated_at: instant(j.updated_at_ms),
        }
    }
}

/// A job that has not succeeded for its `stale_after`.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StaleJobView {
    pub id: String,
    pub name: String,
    /// A duration such as "1h".
    pub stale_after: String,
    /// Null when no run of it ever succeeded.
    #[schema(required = true, format = DateTime)]
    pub last_success_at: Option<String>,
}

impl From<StaleJob> for StaleJobView {
    fn from(j: StaleJob) -> Self {
        StaleJobView {
            id: j.id,
            name: j.name,
            stale_after: format_duration(std::time::Duration::from_millis(
                j.stale_after_ms.max(0) as u64
            )),
            last_success_at: j.last_success_ms.map(instant),
        }
    }
}

/// Alert deliveries that are failing.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertFailuresView {
    /// Pending deliveries whose attempts so far failed.
    pub retrying: i64,
    /// Deliveries given up (until housekeeping prunes them).
    pub given_up: i64,
    /// The error of the newest of them.
    #[schema(required = true)]
    pub latest_error: Option<String>,
    /// The host of that delivery's webhook.
    #[schema(required = true)]
    pub latest_error_host: Option<String>,
}

/// The on-call overview.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = Overview)]
pub struct OverviewView {
    /// The database clock when the overview was read.
    #[schema(format = DateTime)]
    pub now: String,
    /// The 60 minutes up to and including the current one, oldest first.
    pub minutes: Vec<MinuteView>,
    pub lateness: LatenessView,
    /// Most recent failure first, at most 100.
    pub failing_jobs: Vec<FailingJobView>,
    /// By name, at most 100.
    pub paused_jobs: Vec<PausedJobView>,
    /// By name, at most 100.
    pub stale_jobs: Vec<StaleJobView>,
    pub alerts: AlertFailuresView,
}

impl From<Overview> for OverviewView {
    fn from(o: Overview) -> Self {
        let (latest_error, latest_error_host) = o.alerts.latest.unzip();
        OverviewView {
            now: instant(o.now_ms),
            minutes: o.minutes.into_iter().map(MinuteView::from).collect(),
            lateness: LatenessView {
                samples: o.lateness.samples,
                p50_ms: o.lateness.p50_ms,
                p99_ms: o.lateness.p99_ms,
            },
            failing_jobs: o.failing.into_iter().map(FailingJobView::from).collect(),
            paused_jobs: o.paused.into_iter().map(PausedJobView::from).collect(),
            stale_jobs: o.stale.into_iter().map(StaleJobView::from).collect(),
            alerts: AlertFailuresView {
                retrying: o.alerts.retrying,
                given_up: o.alerts.given_up,
                latest_error,
                latest_error_host,
            },
        }
    }
}

/// The on-call overview
#[utoipa::path(get, path = "/overview", tag = "cluster", operation_id = "getOverview",
    responses(
        (status = 200, description = "The last hour of the cluster and what needs attention", body = OverviewView),
        (status = 503, description = "The database is unreachable", body = ErrorBody),
    ))]
pub async fn get(State(state): State<ApiState>) -> Result<Json<OverviewView>, ApiError> {
    Ok(Json(OverviewView::from(state.store.overview().await?)))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::store::{FailurePolicy, FinishRun, NewJob, NewRun, PausedReason, RunStatus};

    /// The router over a real SQLite store, asked over HTTP.
    #[tokio::test]
    async fn the_overview_names_what_needs_attention() {
        let dir = tempfile::tempdir().unwrap();
        let state = super::super::tests::state(dir.path()).await;
        let store = state.store.clone();
        let app = super::super::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let get = || async {
            let answer = reqwest::get(format!("http://{addr}/api/v1/overview"))
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 200);
            answer.json::<Value>().await.unwrap()
        };

        let empty = get().await;
        assert_eq!(empty["minutes"].as_array().unwrap().len(), 60);
        assert_eq!(
            empty["lateness"],
            json!({"samples": 0, "p50_ms": null, "p99_ms": null})
        );
        assert_eq!(empty["failing_jobs"], json!([]));

        let created = store
            .create_job(NewJob {
                failure: FailurePolicy {
                    pause_after_failures: Some(1),
                    stale_after_ms: Some(1),
                    ..FailurePolicy::default()
                },
                ..NewJob::new("nightly", "0 3 * * *", "hello")
            })
            .await
            .unwrap();
        store
            .heartbeat("api-test", "127.0.0.1:1", "test")
            .await
            .unwrap();
        let job = store
            .claim_jobs("api-test", 60_000)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(job.id, created.id);
        // Stale once the database clock has passed its `stale_after` of 1 ms.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.now_ms().await.unwrap() <= created.created_at_ms + 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the database clock stands"
            );
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let now = store.now_ms().await.unwrap();
        let run = NewRun {
            job_id: job.id.clone(),
            scheduled_at_ms: now - 1_000,
            instance_id: "api-test".into(),
            epoch: job.epoch,
            plugin_digest: None,
            attempt: 1,
            catch_up: false,
            manual: false,
        };
        let crate::store::BeginRun::Started(id) = store.begin_run(&run).await.unwrap() else {
            panic!("the run starts");
        };
        let failed = FinishRun {
            status: RunStatus::Failed,
            result: None,
            error: Some("boom".into()),
            logs: None,
        };
        store.finish_run(id, job.epoch, &failed).await.unwrap();
        store
            .pause_for(&job.id, PausedReason::Failures)
            .await
            .unwrap();

        let o = get().await;
        let minutes = o["minutes"].as_array().unwrap();
        let failed: i64 = minutes.iter().map(|m| m["failed"].as_i64().unwrap()).sum();
        assert_eq!(failed, 1);
        assert_eq!(o["lateness"]["samples"], 1);
        assert!(o["lateness"]["p99_ms"].as_i64().unwrap() >= 1_000);
        assert_eq!(o["failing_jobs"][0]["name"], "nightly");
        assert_eq!(o["failing_jobs"][0]["error"], "boom");
        assert_eq!(o["failing_jobs"][0]["status"], "failed");
        assert_eq!(o["paused_jobs"][0]["id"], job.id.as_str());
        assert_eq!(o["paused_jobs"][0]["pause_after_failures"], 1);
        assert_eq!(o["stale_jobs"][0]["stale_after"], "1ms");
        assert_eq!(o["stale_jobs"][0]["last_success_at"], Value::Null);
        assert_eq!(
            o["alerts"],
            json!({"retrying": 0, "given_up": 0, "latest_error": null, "latest_error_host": null})
        );
    }

    #[test]
    fn a_read_token_may_read_the_overview() {
        let doc = serde_json::to_value(super::super::openapi::document()).unwrap();
        let op = &doc["paths"]["/overview"]["get"];
        assert_eq!(op["operationId"], "getOverview");
        assert!(op["responses"]["200"].is_object());
        assert!(op["responses"].get("403").is_none(), "{op}");
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Overview"
        );
    }
}
