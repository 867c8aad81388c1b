//! The store conformance suite: every scenario runs on every engine, through the public
//! [`Store`] only. [`conformance!`] below holds the one list of engines and the one list of
//! scenarios; each pair is a test named `<scenario>::<engine>`. Adding an engine is one entry
//! in that list plus its fixture in [`engines`].
//!
//! Scenarios that need a capability only some engines have (a session whose end marks the
//! replica dead, change notifications) check that the engine answers as its entry in
//! [`engines`] declares, and where it has no such capability they print why they were skipped
//! (straight to the terminal, past the test harness's output capture) and stop.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::time::{Duration, Instant};

use wasmcron::store::events::EVENTS_CHANNEL;
use wasmcron::store::notify::{CLUSTER_CHANNEL, ChangeListener, JOBS_CHANNEL, SETTINGS_CHANNEL};
use wasmcron::store::takeover::HOLE_LOOKBACK_MS;
use wasmcron::store::{Actor, AuditAction, AuditFilter, AuditPage, NewAudit};
use wasmcron::store::{
    AlertOutcome, AlertState, BeginRun, ConnectOptions, FinishRun, Finished, JobFilter, JobPage,
    JobPatch, LOGS_LIMIT_BYTES, MisfirePolicy, NewAlert, NewJob, NewRun, OverlapPolicy,
    RESULT_LIMIT_BYTES, RetryPolicy, RetryWait, RunCursor, RunFilter, RunPage, RunReason,
    RunStatus, Store, StoreError, TRUNCATION_MARKER,
};
use wasmcron_e2e::pg;

#[path = "store/overview.rs"]
mod overview;
use overview::the_overview_reads_the_last_hour_on_the_database_clock;

/// One test per scenario and engine: `mod <scenario> { async fn <engine>() }`.
macro_rules! conformance {
    (engines: $engines:tt, scenarios: [$($scenario:ident),+ $(,)?] $(,)?) => {
        $(conformance!(@scenario $scenario $engines);)+
    };
    (@scenario $scenario:ident [$($engine:ident),+ $(,)?]) => {
        mod $scenario {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $engine() {
                    let db = super::engines::$engine().await;
                    assert_eq!(db.store.backend(), db.engine.backend);
                    super::$scenario(&db).await;
                }
            )+
        }
    };
}

conformance! {
    engines: [sqlite, postgres, pgbouncer, mariadb],
    scenarios: [
        clock_ping_and_idempotent_migration,
        job_create_get_list,
        jobs_created_together_all_or_none,
        jobs_edited_and_deleted_together,
        an_id_wins_over_a_name_and_filters_combine,
        the_job_list_searches_names_and_plugins,
        job_update_versions_and_conflicts,
        pause_and_resume_move_the_anchor,
        delete_cascades_to_runs_and_state,
        begin_run_records_each_tick_once,
        begin_run_with_stale_ownership_is_fenced,
        finish_run_is_fenced_after_an_epoch_change,
        finish_bounds_text,
        batched_begin_and_finish,
        concurrent_begin_of_one_tick_starts_once,
        concurrent_batches_of_interleaved_ticks_all_start_and_finish,
        record_ticks_and_catch_up_cursor,
        abandon_runs_of_a_lost_owner,
        list_runs_newest_first_with_filters_and_cursor,
        retention_keeps_the_newest_run_per_job,
        history_limits_keep_the_newest_runs_and_the_takeover_window,
        history_limits_reach_every_job_past_the_first_page,
        state_is_fenced,
        heartbeat_upserts_and_liveness,
        claim_jobs_from_dead_and_departed_instances,
        ownership_view_orphans_and_stale_instances,
        hand_over_and_release_are_fenced,
        take_over_abandons_and_finds_the_cursor,
        take_over_counts_ticks_within_the_lookback_only,
        leases_elect_one_holder,
        events_append_read_and_prune,
        events_appended_together_keep_their_order,
        manual_triggers_wait_for_the_owner,
        an_owners_triggers_are_found_behind_other_replicas_triggers,
        settings_round_trip,
        tokens_round_trip,
        schema_too_new_is_refused,
        session_end_marks_a_replica_dead_at_once,
        notifications_reach_listeners,
        a_retry_is_planned_with_the_failure_and_starts_once,
        a_planned_retry_is_fenced_and_waits_for_the_next_owner,
        pause_edit_and_delete_drop_planned_retries,
        failure_policy_round_trips,
        last_success_and_stale_marks,
        alerts_are_enqueued_once_and_claimed_under_a_lease,
        alerts_are_retried_after_their_backoff_in_order_per_job,
        alerts_held_by_a_dead_replica_are_taken_over_before_their_lease_ends,
        the_overview_reads_the_last_hour_on_the_database_clock,
        audit_entries_are_listed_filtered_paged_and_pruned,
    ],
}

/// A migrated store on a fresh database of one engine, plus whatever keeps it alive.
struct Db {
    store: Store,
    url: String,
    engine: &'static engines::Engine,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    /// Reports that `scenario` does not apply to this engine, and why, on the terminal.
    fn skip(&self, scenario: &str, why: &str) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {scenario} on {}: {why}",
            self.engine.name
        );
    }
}

/// The engines under test: how to get a fresh database of each, and which capabilities each
/// is expected to have.
mod engines {
    use futures::future::BoxFuture;
    use wasmcron::store::{Backend, ConnectOptions, PoolMode, Store};
    use wasmcron_e2e::{mariadb, pg, pgbouncer};

    use super::Db;

    /// What the suite knows and expects of an engine.
    pub struct Engine {
        /// Name in skip messages.
        pub name: &'static str,
        /// What [`Store::backend`] answers.
        pub backend: Backend,
        /// [`Store::open_session`] gives a session (else `None`).
        pub sessions: bool,
        /// [`Store::listen`] gives a listener (else `None`).
        pub notifications: bool,
        /// Records schema version `version` as applied, as a newer wasmcron would have.
        pub record_schema_version: for<'a> fn(&'a str, i64) -> BoxFuture<'a, ()>,
    }

    const INSERT_VERSION: &str = "INSERT INTO _sqlx_migrations \
        (version, description, success, checksum, execution_time) \
        VALUES ($1, 'from a newer wasmcron', $2, $3, 0)";

    const INSERT_VERSION_MYSQL: &str = "INSERT INTO _sqlx_migrations \
        (version, description, success, checksum, execution_time) \
        VALUES (?, 'from a newer wasmcron', ?, ?, 0)";

    static SQLITE: Engine = Engine {
        name: "sqlite",
        backend: Backend::Sqlite,
        sessions: false,
        notifications: false,
        record_schema_version: sqlite_schema_version,
    };

    static POSTGRES: Engine = Engine {
        name: "postgres",
        backend: Backend::Postgres,
        sessions: true,
        notifications: true,
        record_schema_version: postgres_schema_version,
    };

    /// PostgreSQL with notifications through the `changes` table, as behind a
    /// transaction-mode pooler.
    static PGBOUNCER: Engine = Engine {
        name: "postgres behind pgbouncer (transaction mode, no session URL)",
        backend: Backend::Postgres,
        sessions: false,
        notifications: true,
        record_schema_version: postgres_schema_version,
    };

    static MARIADB: Engine = Engine {
        name: "mariadb",
        backend: Backend::Mysql,
        sessions: true,
        notifications: true,
        record_schema_version: mariadb_schema_version,
    };

    fn mariadb_schema_version(url: &str, version: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let pool = sqlx::MySqlPool::connect(url).await.unwrap();
            sqlx::query(INSERT_VERSION_MYSQL)
                .bind(version)
                .bind(true)
                .bind(vec![0u8])
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        })
    }

    fn sqlite_schema_version(url: &str, version: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(INSERT_VERSION)
                .bind(version)
                .bind(true)
                .bind(vec![0u8])
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        })
    }

    fn postgres_schema_version(url: &str, version: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(INSERT_VERSION)
                .bind(version)
                .bind(true)
                .bind(vec![0u8])
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        })
    }

    /// A temporary SQLite file.
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("wasmcron.db").display());
        let store = Store::connect(&url).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Db {
            store,
            url,
            engine: &SQLITE,
            _dir: Some(dir),
        }
    }

    /// A fresh database on the shared throwaway PostgreSQL server.
    pub async fn postgres() -> Db {
        let url = pg::shared().fresh_database().expect("create database");
        let store = Store::connect(&url).await.expect("open postgres");
        store.migrate().await.expect("migrate postgres");
        Db {
            store,
            url,
            engine: &POSTGRES,
            _dir: None,
        }
    }

    /// A fresh database on the shared throwaway PostgreSQL server, reached through the
    /// shared PgBouncer in transaction mode with no session URL: no sessions, notifications
    /// polled. `url` is the direct one, for the scenarios that open the database again.
    pub async fn pgbouncer() -> Db {
        let url = pg::shared().fresh_database().expect("create database");
        let name = url.rsplit('/').next().unwrap().to_string();
        let options = ConnectOptions {
            pool_mode: PoolMode::Transaction,
            ..ConnectOptions::default()
        };
        let store = Store::connect_with(&pgbouncer::shared().url(&name), options)
            .await
            .expect("open postgres through pgbouncer");
        store
            .migrate()
            .await
            .expect("migrate postgres through pgbouncer");
        Db {
            store,
            url,
            engine: &PGBOUNCER,
            _dir: None,
        }
    }

    /// A fresh database on the shared throwaway MariaDB server.
    pub async fn mariadb() -> Db {
        let url = mariadb::shared().fresh_database().expect("create database");
        let store = Store::connect(&url).await.expect("open mariadb");
        store.migrate().await.expect("migrate mariadb");
        Db {
            store,
            url,
            engine: &MARIADB,
            _dir: None,
        }
    }
}

// ----- helpers -------------------------------------------------------------------------------

const INSTANCE: &str = "replica-a";

/// Creates a job and makes `INSTANCE` its owner; returns it as owned.
async fn owned_job(store: &Store, name: &str) -> wasmcron::store::Job {
    let job = store
        .create_job(NewJob::new(name, "*/5 * * * *", "hello"))
        .await
        .expect("create job");
    store
        .heartbeat(INSTANCE, "127.0.0.1:1", "test")
        .await
        .expect("heartbeat");
    let claimed = store.claim_jobs(INSTANCE, 60_000).await.expect("claim");
    claimed
        .into_iter()
        .find(|j| j.id == job.id)
        .or(store.get_job(&job.id).await.expect("get"))
        .expect("job exists")
}

/// Creates `n` jobs of the `hello` plugin in one call, named `{prefix}-0000` … in order.
async fn create_numbered(
    store: &Store,
    prefix: &str,
    n: usize,
    schedule: &str,
) -> Vec<wasmcron::store::Job> {
    store
        .create_jobs(
            (0..n)
                .map(|i| NewJob::new(format!("{prefix}-{i:04}"), schedule, "hello"))
                .collect(),
        )
        .await
        .expect("create jobs")
}

fn new_run(job: &wasmcron::store::Job, at: i64) -> NewRun {
    NewRun {
        job_id: job.id.clone(),
        scheduled_at_ms: at,
        instance_id: INSTANCE.to_owned(),
        epoch: job.epoch,
        plugin_digest: Some("sha256:abc".to_owned()),
        attempt: 1,
        catch_up: false,
        manual: false,
    }
}

fn succeeded(result: &str) -> FinishRun {
    FinishRun {
        status: RunStatus::Succeeded,
        result: Some(result.to_owned()),
        error: None,
        logs: Some("line 1\nline 2\n".to_owned()),
    }
}

async fn started(store: &Store, run: &NewRun) -> i64 {
    match store.begin_run(run).await.expect("begin run") {
        BeginRun::Started(id) => id,
        other => panic!("expected the run to start, got {other:?}"),
    }
}

/// The first page (newest first) of job `job_id`'s runs.
async fn runs_of(store: &Store, job_id: &str) -> Vec<wasmcron::store::Run> {
    store
        .list_runs(
            &RunFilter {
                job_id: Some(job_id.to_owned()),
                ..RunFilter::default()
            },
            &RunPage::default(),
        )
        .await
        .expect("list runs")
}

/// Waits (with a deadline) until the database clock has passed `instant_ms`.
async fn wait_for_db_clock_past(store: &Store, instant_ms: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.now_ms().await.expect("now") <= instant_ms {
        assert!(Instant::now() < deadline, "database clock did not advance");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ----- scenarios -----------------------------------------------------------------------------

async fn clock_ping_and_idempotent_migration(db: &Db) {
    let store = &db.store;
    store.ping().await.expect("ping");
    let system_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let db_ms = store.now_ms().await.expect("now");
    assert!(
        (db_ms - system_ms).abs() < 5_000,
        "db clock {db_ms} vs system {system_ms}"
    );
    let later = store.now_ms().await.expect("now");
    assert!(later >= db_ms);
    store.migrate().await.expect("second migrate is a no-op");
    assert_eq!(
        store.applied_schema_version().await.expect("version"),
        Some(store.known_schema_version())
    );
}

/// A list of jobs is created in one transaction, across several statements; a taken name
/// refuses every one of them. Audit entries are recorded together, in order.
async fn jobs_created_together_all_or_none(db: &Db) {
    let store = &db.store;
    let new = |i: usize| {
        let mut job = NewJob::new(format!("batch-{i:04}"), "@every 1h", "hello");
        job.managed_by = Some("jobs.yaml".into());
        job.timeout_ms = i.is_multiple_of(2).then_some(1_000);
        job.config = BTreeMap::from([("n".to_owned(), i.to_string())]);
        job
    };
    let before = store.now_ms().await.unwrap();
    let created = store
        .create_jobs((0..1203).map(new).collect())
        .await
        .expect("create 1203 jobs");
    assert_eq!(created.len(), 1203);
    for i in [0, 499, 500, 1202] {
        let stored = store
            .get_job(&created[i].id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(stored, created[i], "job {i} as stored and as returned");
        assert_eq!(stored.config["n"], i.to_string());
        assert!(stored.anchor_ms >= before);
    }
    let page = JobPage {
        limit: 2000,
        after_name: None,
    };
    let listed = store.list_jobs(&JobFilter::default(), &page).await.unwrap();
    assert_eq!(listed.len(), 1203);

    // One taken name among new ones: none is created.
    let mut clash: Vec<NewJob> = (2000..2600).map(new).collect();
    clash.push(new(7));
    match store.create_jobs(clash).await {
        Err(StoreError::DuplicateName(_)) => {}
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    let listed = store.list_jobs(&JobFilter::default(), &page).await.unwrap();
    assert_eq!(listed.len(), 1203, "a refused list created jobs");

    let entries: Vec<NewAudit> = (0..1001)
        .map(|i| NewAudit {
            actor: Actor::JobsFile,
            action: AuditAction::JobCreated,
            job_id: Some(created[i].id.clone()),
            target: created[i].name.clone(),
            before: None,
            after: i.is_multiple_of(2).then(|| serde_json::json!({"n": i})),
        })
        .collect();
    store
        .record_audits(&entries)
        .await
        .expect("record 1001 entries");
    let listed = store
        .list_audit(
            &AuditFilter::default(),
            &AuditPage {
                limit: 1000,
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1000);
    // Newest first: the last entry recorded is listed first.
    assert_eq!(listed[0].target, created[1000].name);
    assert_eq!(listed[0].after, Some(serde_json::json!({"n": 1000})));
    assert_eq!(listed[999].target, created[1].name);
    assert_eq!(listed[999].after, None);
}

/// Edits of several jobs commit together, each only at the version read; a list of jobs is
/// deleted in one transaction.
async fn jobs_edited_and_deleted_together(db: &Db) {
    let store = &db.store;
    let created = create_numbered(store, "e", 700, "@every 1h").await;
    let timeout = JobPatch {
        timeout_ms: Some(Some(5_000)),
        ..JobPatch::default()
    };
    let schedule = JobPatch {
        schedule: Some("@every 2h".into()),
        ..JobPatch::default()
    };
    let edits = vec![
        (created[0].clone(), timeout.clone()),
        (created[1].clone(), schedule),
    ];
    let edited = store.update_jobs(&edits).await.expect("edit two jobs");
    for (i, job) in edited.iter().enumerate() {
        let stored = store.get_job(&job.id).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(job.version, 2);
        assert_eq!(
            (stored.timeout_ms, stored.schedule.as_str()),
            (job.timeout_ms, job.schedule.as_str()),
            "edit {i}"
        );
    }
    assert!(
        store
            .get_job(&created[1].id)
            .await
            .unwrap()
            .unwrap()
            .anchor_ms
            >= created[1].anchor_ms
    );
    // One job read at an older version: none of the batch is written.
    let stale = vec![
        (created[2].clone(), timeout.clone()),
        (created[0].clone(), timeout.clone()),
    ];
    match store.update_jobs(&stale).await {
        Err(StoreError::VersionConflict {
            expected, found, ..
        }) => assert_eq!((expected, found), (1, 2)),
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    assert_eq!(
        store
            .get_job(&created[2].id)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    let ids: Vec<String> = created[..600].iter().map(|j| j.id.clone()).collect();
    assert_eq!(store.delete_jobs(&ids).await.unwrap(), 600);
    assert!(store.get_job(&created[599].id).await.unwrap().is_none());
    let page = JobPage {
        limit: 1000,
        after_name: None,
    };
    let left = store.list_jobs(&JobFilter::default(), &page).await.unwrap();
    assert_eq!(left.len(), 100);
    assert_eq!(store.delete_jobs(&ids).await.unwrap(), 0);
}

async fn job_create_get_list(db: &Db) {
    let store = &db.store;
    let before = store.now_ms().await.unwrap();
    let job = store
        .create_job(NewJob::new("alpha", "0 * * * *", "hello"))
        .await
        .expect("create");
    assert!(uuid_like(&job.id), "id {} is a UUID", job.id);
    assert_eq!(job.timezone, "UTC");
    assert_eq!(job.overlap, OverlapPolicy::Skip);
    assert_eq!(job.misfire, MisfirePolicy::RunOnce);
    assert_eq!(job.catchup_window_ms, 3_600_000);
    assert_eq!(job.jitter_ms, 0);
    assert_eq!(job.input, serde_json::Value::Null);
    assert!(job.config.is_empty() && job.allowed_hosts.is_empty());
    assert_eq!((job.version, job.epoch, job.owner.as_deref()), (1, 0, None));
    assert!(!job.paused);
    assert_eq!(job.managed_by, None);
    assert!(job.anchor_ms >= before && job.created_at_ms == job.anchor_ms);

    let mut full = NewJob::new("beta", "*/10 * * * * *", "fetch");
    full.timezone = "Europe/Paris".into();
    full.input = serde_json::json!({"url": "https://example.com", "n": [1, 2]});
    full.config = BTreeMap::from([("k".to_owned(), "v".to_owned())]);
    full.paused = true;
    full.overlap = OverlapPolicy::Queue;
    full.misfire = MisfirePolicy::Skip;
    full.catchup_window_ms = 10;
    full.jitter_ms = 20;
    full.timeout_ms = Some(30);
    full.memory_limit_bytes = Some(1 << 20);
    full.allowed_hosts = vec!["example.com".into()];
    full.secrets = BTreeMap::from([("TOKEN".to_owned(), "api-token".to_owned())]);
    full.managed_by = Some("/etc/wasmcron/jobs/jobs.yaml".into());
    let beta = store.create_job(full.clone()).await.expect("create beta");
    assert_eq!(beta.managed_by, full.managed_by);
    assert_eq!(beta.input, full.input);
    assert_eq!(beta.secrets, full.secrets);
    assert_eq!(beta.config, full.config);
    assert_eq!(beta.allowed_hosts, full.allowed_hosts);
    assert_eq!(beta.timeout_ms, Some(30));
    assert_eq!(beta.memory_limit_bytes, Some(1 << 20));
    assert!(beta.paused);

    match store
        .create_job(NewJob::new("alpha", "* * * * *", "x"))
        .await
    {
        Err(StoreError::DuplicateName(name)) => assert_eq!(name, "alpha"),
        other => panic!("expected DuplicateName, got {other:?}"),
    }

    assert_eq!(store.get_job(&job.id).await.unwrap(), Some(job.clone()));
    assert_eq!(store.get_job("alpha").await.unwrap(), Some(job.clone()));
    assert_eq!(store.get_job("nope").await.unwrap(), None);

    store
        .create_job(NewJob::new("gamma", "* * * * *", "hello"))
        .await
        .unwrap();
    let all = store
        .list_jobs(&JobFilter::default(), &JobPage::default())
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);

    let hello = store
        .list_jobs(
            &JobFilter {
                plugin: Some("hello".into()),
                ..JobFilter::default()
            },
            &JobPage::default(),
        )
        .await
        .unwrap();
    assert_eq!(hello.len(), 2);
    let paused = store
        .list_jobs(
            &JobFilter {
                paused: Some(true),
                ..JobFilter::default()
            },
            &JobPage::default(),
        )
        .await
        .unwrap();
    assert_eq!(paused.iter().map(|j| &j.name).collect::<Vec<_>>(), ["beta"]);

    let first = store
        .list_jobs(
            &JobFilter::default(),
            &JobPage {
                limit: 2,
                after_name: None,
            },
        )
        .await
        .unwrap();
    let second = store
        .list_jobs(
            &JobFilter::default(),
            &JobPage {
                limit: 2,
                after_name: Some(first.last().unwrap().name.clone()),
            },
        )
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        second.iter().map(|j| &j.name).collect::<Vec<_>>(),
        ["gamma"]
    );

    owned_job(store, "delta").await;
    let mine = store
        .list_jobs(
            &JobFilter {
                owner: Some(INSTANCE.into()),
                ..JobFilter::default()
            },
            &JobPage::default(),
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 4, "the claim took every unowned job");
}

/// A lookup by id or name prefers the id; the listing's filters apply together.
async fn an_id_wins_over_a_name_and_filters_combine(db: &Db) {
    let store = &db.store;
    let first = store
        .create_job(NewJob::new("first", "* * * * *", "hello"))
        .await
        .unwrap();
    // A job named like another job's id: that text finds the job with the id.
    let named_like_an_id = store
        .create_job(NewJob::new(first.id.clone(), "* * * * *", "fetch"))
        .await
        .unwrap();
    assert_eq!(store.get_job(&first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.get_job(&named_like_an_id.id).await.unwrap(),
        Some(named_like_an_id.clone())
    );
    assert_eq!(store.get_job("first").await.unwrap(), Some(first.clone()));

    let mut paused = NewJob::new("third", "* * * * *", "hello");
    paused.paused = true;
    store.create_job(paused).await.unwrap();
    let names = |jobs: Vec<wasmcron::store::Job>| -> Vec<String> {
        jobs.into_iter().map(|j| j.name).collect()
    };
    let hello = |paused: bool| JobFilter {
        plugin: Some("hello".into()),
        paused: Some(paused),
        ..JobFilter::default()
    };
    let page = JobPage::default();
    assert_eq!(
        names(store.list_jobs(&hello(true), &page).await.unwrap()),
        ["third"]
    );
    assert_eq!(
        names(store.list_jobs(&hello(false), &page).await.unwrap()),
        ["first"]
    );
    let after_first = JobPage {
        after_name: Some("first".into()),
        ..JobPage::default()
    };
    assert!(
        store
            .list_jobs(&hello(false), &after_first)
            .await
            .unwrap()
            .is_empty()
    );

    let owned = owned_job(store, "fourth").await;
    let mine = |plugin: &str| JobFilter {
        plugin: Some(plugin.into()),
        owner: Some(INSTANCE.into()),
        ..JobFilter::default()
    };
    let fetch_jobs = store.list_jobs(&mine("fetch"), &page).await.unwrap();
    assert_eq!(names(fetch_jobs), [first.id.as_str()]);
    let hello_jobs = store.list_jobs(&mine("hello"), &page).await.unwrap();
    assert_eq!(names(hello_jobs), ["first", "fourth", "third"]);
    assert_eq!(owned.owner.as_deref(), Some(INSTANCE));
}

/// The list's search finds a text in names and plugins, letter case aside, takes `%`, `_`
/// and `!` literally, combines with the other filters and pages.
async fn the_job_list_searches_names_and_plugins(db: &Db) {
    let store = &db.store;
    for (name, plugin, paused) in [
        ("Nightly-Backup", "hello", false),
        ("cleanup", "backup-tool", true),
        ("report_100%", "fetch", false),
        ("a_b", "hello", false),
        ("axb", "hello", false),
        ("hey!", "hello", false),
    ] {
        let mut job = NewJob::new(name, "* * * * *", plugin);
        job.paused = paused;
        store.create_job(job).await.unwrap();
    }
    let search = |text: &str| JobFilter {
        search: Some(text.into()),
        ..JobFilter::default()
    };
    let found = |filter: JobFilter| async move {
        let jobs = store.list_jobs(&filter, &JobPage::default()).await.unwrap();
        jobs.into_iter()
            .map(|j| j.name)
            .collect::<HashSet<String>>()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<HashSet<_>>();
    assert_eq!(
        found(search("BACKUP")).await,
        set(&["Nightly-Backup", "cleanup"])
    );
    assert_eq!(
        found(search("a_b")).await,
        set(&["a_b"]),
        "_ is no wildcard"
    );
    assert_eq!(
        found(search("100%")).await,
        set(&["report_100%"]),
        "% is no wildcard"
    );
    assert_eq!(found(search("y!")).await, set(&["hey!"]));
    assert!(found(search("nothing like it")).await.is_empty());
    let active_backups = JobFilter {
        paused: Some(false),
        ..search("backup")
    };
    assert_eq!(found(active_backups).await, set(&["Nightly-Backup"]));
    let first = store
        .list_jobs(
            &search("backup"),
            &JobPage {
                limit: 1,
                after_name: None,
            },
        )
        .await
        .unwrap();
    let rest = store
        .list_jobs(
            &search("backup"),
            &JobPage {
                limit: 10,
                after_name: Some(first[0].name.clone()),
            },
        )
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 2, "{first:?} {rest:?}");
    assert_ne!(first[0].name, rest[0].name);
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

async fn job_update_versions_and_conflicts(db: &Db) {
    let store = &db.store;
    let job = store
        .create_job(NewJob::new("edit-me", "0 * * * *", "hello"))
        .await
        .unwrap();

    // An edit that does not touch the schedule keeps the anchor.
    let edited = store
        .update_job(
            &job.id,
            &JobPatch {
                input: Some(serde_json::json!({"a": 1})),
                timeout_ms: Some(Some(5_000)),
                secrets: Some(BTreeMap::from([("K".to_owned(), "k".to_owned())])),
                ..JobPatch::default()
            },
            Some(1),
        )
        .await
        .expect("edit at the expected version");
    assert_eq!(edited.version, 2);
    assert_eq!(
        edited.secrets,
        BTreeMap::from([("K".to_owned(), "k".to_owned())])
    );
    assert!(job.secrets.is_empty());
    assert_eq!(edited.input, serde_json::json!({"a": 1}));
    assert_eq!(edited.timeout_ms, Some(5_000));
    assert_eq!(edited.anchor_ms, job.anchor_ms);
    assert!(edited.updated_at_ms >= job.updated_at_ms);

    // A stale expected version is refused and changes nothing.
    match store
        .update_job(
            &job.id,
            &JobPatch {
                plugin: Some("other".into()),
                ..JobPatch::default()
            },
            Some(1),
        )
        .await
    {
        Err(StoreError::VersionConflict {
            expected, found, ..
        }) => assert_eq!((expected, found), (1, 2)),
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    assert_eq!(
        store.get_job(&job.id).await.unwrap().unwrap().plugin,
        "hello"
    );

    // A schedule change moves the anchor; clearing a nullable field works.
    wait_for_db_clock_past(store, edited.anchor_ms).await;
    let rescheduled = store
        .update_job(
            &job.id,
            &JobPatch {
                schedule: Some("*/2 * * * *".into()),
                timeout_ms: Some(None),
                ..JobPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(rescheduled.version, 3);
    assert!(rescheduled.anchor_ms > edited.anchor_ms);
    assert_eq!(rescheduled.timeout_ms, None);

    // Same for a time zone change.
    wait_for_db_clock_past(store, rescheduled.anchor_ms).await;
    let moved = store
        .update_job(
            &job.id,
            &JobPatch {
                timezone: Some("Asia/Tokyo".into()),
                ..JobPatch::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(moved.anchor_ms > rescheduled.anchor_ms);

    // Renaming onto an existing name is a DuplicateName.
    store
        .create_job(NewJob::new("taken", "* * * * *", "hello"))
        .await
        .unwrap();
    match store
        .update_job(
            &job.id,
            &JobPatch {
                name: Some("taken".into()),
                ..JobPatch::default()
            },
            None,
        )
        .await
    {
        Err(StoreError::DuplicateName(name)) => assert_eq!(name, "taken"),
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    match store
        .update_job("no-such-id", &JobPatch::default(), None)
        .await
    {
        Err(StoreError::JobNotFound(_)) => {}
        other => panic!("expected JobNotFound, got {other:?}"),
    }
}

async fn pause_and_resume_move_the_anchor(db: &Db) {
    let store = &db.store;
    let job = store
        .create_job(NewJob::new("pausable", "* * * * *", "hello"))
        .await
        .unwrap();
    let paused = store.set_paused(&job.id, true).await.unwrap();
    assert!(paused.paused);
    assert_eq!(paused.version, 2);
    assert_eq!(paused.anchor_ms, job.anchor_ms, "pausing keeps the anchor");
    let again = store.set_paused(&job.id, true).await.unwrap();
    assert_eq!(again.version, 2, "pausing a paused job changes nothing");

    wait_for_db_clock_past(store, paused.anchor_ms).await;
    let resumed = store.set_paused(&job.id, false).await.unwrap();
    assert!(!resumed.paused);
    assert_eq!(resumed.version, 3);
    assert!(
        resumed.anchor_ms > paused.anchor_ms,
        "resuming anchors at now so the pause gap is not missed"
    );
}

async fn delete_cascades_to_runs_and_state(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "doomed").await;
    let run_id = started(store, &new_run(&job, 1_000)).await;
    assert!(
        store
            .state_set(&job.id, "k", b"v", INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert!(store.delete_job(&job.id).await.unwrap());
    assert!(!store.delete_job(&job.id).await.unwrap(), "already gone");
    assert_eq!(store.get_job(&job.id).await.unwrap(), None);
    assert_eq!(store.get_run(run_id).await.unwrap(), None);
    assert_eq!(store.state_get(&job.id, "k").await.unwrap(), None);
}

async fn begin_run_records_each_tick_once(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "once").await;
    let before = store.now_ms().await.unwrap();
    let run = new_run(&job, 60_000);
    let id = started(store, &run).await;
    assert_eq!(
        store.begin_run(&run).await.unwrap(),
        BeginRun::AlreadyRecorded
    );

    let recorded = store.get_run(id).await.unwrap().expect("run row");
    assert_eq!(recorded.status, RunStatus::Running);
    assert_eq!(recorded.job_id, job.id);
    assert_eq!(recorded.scheduled_at_ms, 60_000);
    assert_eq!(recorded.instance_id.as_deref(), Some(INSTANCE));
    assert_eq!(recorded.epoch, job.epoch);
    assert_eq!(recorded.plugin_digest.as_deref(), Some("sha256:abc"));
    assert_eq!(recorded.attempt, 1);
    assert!(recorded.started_at_ms.unwrap() >= before);
    assert_eq!(recorded.finished_at_ms, None);

    assert_eq!(
        store
            .finish_run(id, job.epoch, &succeeded("done"))
            .await
            .unwrap(),
        Finished::Ok
    );
    let done = store.get_run(id).await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.result.as_deref(), Some("done"));
    assert_eq!(done.logs.as_deref(), Some("line 1\nline 2\n"));
    let (start, end) = (done.started_at_ms.unwrap(), done.finished_at_ms.unwrap());
    assert!(end >= start);
    assert_eq!(done.duration_ms, Some(end - start));
    assert_eq!(
        store
            .finish_run(id, job.epoch, &succeeded("again"))
            .await
            .unwrap(),
        Finished::Fenced,
        "a finished run cannot be finished twice"
    );
    assert_eq!(
        store.begin_run(&run).await.unwrap(),
        BeginRun::AlreadyRecorded
    );

    match store
        .finish_run(
            id,
            job.epoch,
            &FinishRun {
                status: RunStatus::Running,
                result: None,
                error: None,
                logs: None,
            },
        )
        .await
    {
        Err(StoreError::InvalidInput(_)) => {}
        other => panic!("finishing as running must be refused, got {other:?}"),
    }
}

async fn begin_run_with_stale_ownership_is_fenced(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "fenced").await;
    let mut stale = new_run(&job, 1_000);
    stale.epoch = job.epoch - 1;
    assert_eq!(store.begin_run(&stale).await.unwrap(), BeginRun::Fenced);
    let mut stranger = new_run(&job, 1_000);
    stranger.instance_id = "replica-b".into();
    assert_eq!(store.begin_run(&stranger).await.unwrap(), BeginRun::Fenced);
    let mut unknown = new_run(&job, 1_000);
    unknown.job_id = "no-such-job".into();
    assert_eq!(store.begin_run(&unknown).await.unwrap(), BeginRun::Fenced);
    // Nothing was written: the rightful owner can still start that tick.
    started(store, &new_run(&job, 1_000)).await;
    assert_eq!(store.last_tick_ms(&job.id).await.unwrap(), Some(1_000));
}

async fn finish_run_is_fenced_after_an_epoch_change(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "moving").await;
    let id = started(store, &new_run(&job, 5_000)).await;
    // The owner leaves; another replica takes the job (new epoch).
    store.leave(INSTANCE).await.unwrap();
    store
        .heartbeat("replica-b", "127.0.0.1:2", "test")
        .await
        .unwrap();
    let taken = store.claim_jobs("replica-b", 60_000).await.unwrap();
    let moved = taken.iter().find(|j| j.id == job.id).expect("taken over");
    assert_eq!(moved.owner.as_deref(), Some("replica-b"));
    assert_eq!(moved.epoch, job.epoch + 1);

    assert_eq!(
        store
            .finish_run(id, job.epoch, &succeeded("late"))
            .await
            .unwrap(),
        Finished::Fenced
    );
    assert_eq!(
        store.get_run(id).await.unwrap().unwrap().status,
        RunStatus::Running
    );
    assert_eq!(
        store
            .finish_runs(&[(id, job.epoch, succeeded("late"))])
            .await
            .unwrap(),
        vec![Finished::Fenced]
    );
}

async fn finish_bounds_text(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "chatty").await;
    let id = started(store, &new_run(&job, 7_000)).await;
    let huge_result = "r".repeat(10 * 1024);
    let huge_logs = format!("nul\0here\n{}", "l".repeat(200 * 1024));
    let finish = FinishRun {
        status: RunStatus::Failed,
        result: Some(huge_result),
        error: Some("e".repeat(5_000)),
        logs: Some(huge_logs),
    };
    assert_eq!(
        store.finish_run(id, job.epoch, &finish).await.unwrap(),
        Finished::Ok
    );
    let run = store.get_run(id).await.unwrap().unwrap();
    let result = run.result.unwrap();
    assert!(result.len() <= RESULT_LIMIT_BYTES && result.ends_with(TRUNCATION_MARKER));
    let logs = run.logs.unwrap();
    assert!(logs.len() <= LOGS_LIMIT_BYTES && logs.ends_with(TRUNCATION_MARKER));
    assert!(logs.starts_with("nul\u{FFFD}here\n"), "NUL is replaced");
    assert!(run.error.unwrap().ends_with(TRUNCATION_MARKER));
}

async fn batched_begin_and_finish(db: &Db) {
    let store = &db.store;
    let a = owned_job(store, "batch-a").await;
    let b = owned_job(store, "batch-b").await;
    let a = store.get_job(&a.id).await.unwrap().unwrap();
    let b = store.get_job(&b.id).await.unwrap().unwrap();
    started(store, &new_run(&a, 100)).await;
    let mut stale = new_run(&b, 350);
    stale.epoch -= 1;
    let batch = vec![
        new_run(&a, 100), // already recorded
        new_run(&a, 200), // new
        stale,            // fenced
        new_run(&b, 300), // new
        new_run(&a, 200), // listed twice: second is already recorded
    ];
    let answers = store.begin_runs(&batch).await.unwrap();
    assert_eq!(answers[0], BeginRun::AlreadyRecorded);
    assert!(matches!(answers[1], BeginRun::Started(_)));
    assert_eq!(answers[2], BeginRun::Fenced);
    assert!(matches!(answers[3], BeginRun::Started(_)));
    assert_eq!(answers[4], BeginRun::AlreadyRecorded);
    assert_eq!(store.begin_runs(&[]).await.unwrap(), vec![]);

    let (BeginRun::Started(a200), BeginRun::Started(b300)) = (answers[1], answers[3]) else {
        unreachable!()
    };
    let finishes = vec![
        (a200, a.epoch, succeeded("a")),
        (b300, b.epoch + 1, succeeded("wrong epoch")),
        (
            b300,
            b.epoch,
            FinishRun {
                status: RunStatus::TimedOut,
                result: None,
                error: Some("took too long".into()),
                logs: None,
            },
        ),
        (987_654_321, a.epoch, succeeded("no such run")),
    ];
    let answers = store.finish_runs(&finishes).await.unwrap();
    assert_eq!(
        answers,
        vec![
            Finished::Ok,
            Finished::Fenced,
            Finished::Ok,
            Finished::Fenced
        ]
    );
    let b_run = store.get_run(b300).await.unwrap().unwrap();
    assert_eq!(b_run.status, RunStatus::TimedOut);
    assert_eq!(b_run.error.as_deref(), Some("took too long"));
    assert_eq!(
        store
            .get_run(a200)
            .await
            .unwrap()
            .unwrap()
            .result
            .as_deref(),
        Some("a")
    );
}

async fn concurrent_begin_of_one_tick_starts_once(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "contended").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let run = new_run(&job, 42_000);
        tasks.push(tokio::spawn(async move { store.begin_run(&run).await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("begin"));
    }
    let started = answers
        .iter()
        .filter(|a| matches!(a, BeginRun::Started(_)))
        .count();
    let recorded = answers
        .iter()
        .filter(|a| **a == BeginRun::AlreadyRecorded)
        .count();
    assert_eq!((started, recorded), (1, 7), "{answers:?}");

    // The same through batches racing each other.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let batch: Vec<NewRun> = (0..20).map(|i| new_run(&job, 100_000 + i)).collect();
        tasks.push(tokio::spawn(async move { store.begin_runs(&batch).await }));
    }
    let mut started_ids = HashSet::new();
    for task in tasks {
        for answer in task.await.expect("task").expect("begin batch") {
            match answer {
                BeginRun::Started(id) => assert!(started_ids.insert(id)),
                BeginRun::AlreadyRecorded => {}
                BeginRun::Fenced => panic!("the owner was fenced"),
            }
        }
    }
    assert_eq!(
        started_ids.len(),
        20,
        "each of the 20 ticks started exactly once"
    );
}

/// Batches of distinct ticks interleaved over the same jobs, written at once (as the store
/// benchmark does): every tick starts and finishes once. On MySQL the batches' next-key locks
/// deadlock now and then; the store runs a deadlock's victim again.
async fn concurrent_batches_of_interleaved_ticks_all_start_and_finish(db: &Db) {
    let store = &db.store;
    let mut jobs = Vec::new();
    for i in 0..10 {
        jobs.push(owned_job(store, &format!("interleaved-{i}")).await);
    }
    let mut tasks = Vec::new();
    for worker in 0..4i64 {
        let store = store.clone();
        let jobs = jobs.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            for round in 0..5i64 {
                let batch: Vec<NewRun> = (0..64i64)
                    .map(|i| {
                        let n = (round * 4 + worker) * 64 + i;
                        new_run(&jobs[(n % 10) as usize], 1_000_000 + n)
                    })
                    .collect();
                let answers = store.begin_runs(&batch).await.expect("begin batch");
                let finishes: Vec<(i64, i64, FinishRun)> = answers
                    .iter()
                    .zip(&batch)
                    .map(|(answer, run)| match answer {
                        BeginRun::Started(id) => (*id, run.epoch, succeeded("ok")),
                        other => panic!("tick {} not started: {other:?}", run.scheduled_at_ms),
                    })
                    .collect();
                let finished = store.finish_runs(&finishes).await.expect("finish batch");
                done += finished.iter().filter(|f| **f == Finished::Ok).count();
            }
            done
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("task");
    }
    assert_eq!(done, 4 * 5 * 64, "every tick started and finished once");
}

async fn record_ticks_and_catch_up_cursor(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "cursor").await;
    assert_eq!(store.last_tick_ms(&job.id).await.unwrap(), None);
    started(store, &new_run(&job, 10_000)).await;
    let mut manual = new_run(&job, 90_000);
    manual.manual = true;
    started(store, &manual).await;
    assert_eq!(
        store.last_tick_ms(&job.id).await.unwrap(),
        Some(10_000),
        "manual runs do not move the catch-up cursor"
    );

    let ticks = vec![
        (20_000, RunStatus::Missed, RunReason::CatchupWindow),
        (30_000, RunStatus::Skipped, RunReason::Overlap),
        (10_000, RunStatus::Skipped, RunReason::Overlap), // already recorded: left alone
    ];
    assert!(
        store
            .record_ticks(&job.id, INSTANCE, job.epoch, &ticks)
            .await
            .unwrap()
    );
    assert_eq!(store.last_tick_ms(&job.id).await.unwrap(), Some(30_000));
    let runs = runs_of(store, &job.id).await;
    let by_tick: Vec<(i64, RunStatus, Option<RunReason>)> = runs
        .iter()
        .map(|r| (r.scheduled_at_ms, r.status, r.reason))
        .collect();
    assert_eq!(
        by_tick,
        vec![
            (90_000, RunStatus::Running, None),
            (30_000, RunStatus::Skipped, Some(RunReason::Overlap)),
            (20_000, RunStatus::Missed, Some(RunReason::CatchupWindow)),
            (10_000, RunStatus::Running, None),
        ]
    );
    let missed = runs.iter().find(|r| r.scheduled_at_ms == 20_000).unwrap();
    assert!(missed.finished_at_ms.is_some() && missed.started_at_ms.is_none());

    assert!(
        !store
            .record_ticks(
                &job.id,
                INSTANCE,
                job.epoch - 1,
                &[(40_000, RunStatus::Missed, RunReason::Misfire)]
            )
            .await
            .unwrap(),
        "a stale epoch is fenced"
    );
    assert!(
        !store
            .record_ticks(
                &job.id,
                "replica-b",
                job.epoch,
                &[(40_000, RunStatus::Missed, RunReason::Misfire)]
            )
            .await
            .unwrap(),
        "another instance is fenced"
    );
    assert_eq!(store.last_tick_ms(&job.id).await.unwrap(), Some(30_000));
    assert!(
        store
            .record_ticks(&job.id, INSTANCE, job.epoch, &[])
            .await
            .unwrap()
    );
    match store
        .record_ticks(
            &job.id,
            INSTANCE,
            job.epoch,
            &[(50_000, RunStatus::Succeeded, RunReason::Misfire)],
        )
        .await
    {
        Err(StoreError::InvalidInput(_)) => {}
        other => panic!("only skipped/missed ticks can be recorded, got {other:?}"),
    }
}

async fn abandon_runs_of_a_lost_owner(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "abandoned").await;
    let old_run = started(store, &new_run(&job, 1_000)).await;
    let done_run = started(store, &new_run(&job, 2_000)).await;
    store
        .finish_run(done_run, job.epoch, &succeeded("ok"))
        .await
        .unwrap();

    // replica-a goes silent; replica-b takes over once a's heartbeat is older than dead_after.
    let a_beat = store
        .heartbeat(INSTANCE, "127.0.0.1:1", "test")
        .await
        .unwrap();
    store
        .heartbeat("replica-b", "127.0.0.1:2", "test")
        .await
        .unwrap();
    wait_for_db_clock_past(store, a_beat + 50).await;
    let taken = store.claim_jobs("replica-b", 50).await.unwrap();
    let new_epoch = taken.iter().find(|j| j.id == job.id).expect("taken").epoch;

    assert_eq!(store.abandon_runs(&job.id, new_epoch).await.unwrap(), 1);
    let abandoned = store.get_run(old_run).await.unwrap().unwrap();
    assert_eq!(abandoned.status, RunStatus::Failed);
    assert_eq!(abandoned.reason, Some(RunReason::Abandoned));
    assert!(abandoned.error.is_some() && abandoned.finished_at_ms.is_some());
    assert_eq!(
        store.get_run(done_run).await.unwrap().unwrap().status,
        RunStatus::Succeeded,
        "finished runs are left alone"
    );
    assert_eq!(store.abandon_runs(&job.id, new_epoch).await.unwrap(), 0);
}

async fn list_runs_newest_first_with_filters_and_cursor(db: &Db) {
    let store = &db.store;
    let a = owned_job(store, "list-a").await;
    let b = owned_job(store, "list-b").await;
    let a = store.get_job(&a.id).await.unwrap().unwrap();
    let b = store.get_job(&b.id).await.unwrap().unwrap();
    for at in [1_000, 2_000, 3_000, 4_000, 5_000] {
        let id = started(store, &new_run(&a, at)).await;
        if at % 2_000 == 0 {
            store
                .finish_run(id, a.epoch, &succeeded("ok"))
                .await
                .unwrap();
        }
    }
    started(store, &new_run(&b, 2_500)).await;

    let all = store
        .list_runs(&RunFilter::default(), &RunPage::default())
        .await
        .unwrap();
    let ticks: Vec<i64> = all.iter().map(|r| r.scheduled_at_ms).collect();
    assert_eq!(ticks, [5_000, 4_000, 3_000, 2_500, 2_000, 1_000]);

    let succeeded_a = store
        .list_runs(
            &RunFilter {
                job_id: Some(a.id.clone()),
                status: Some(RunStatus::Succeeded),
                ..RunFilter::default()
            },
            &RunPage::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        succeeded_a
            .iter()
            .map(|r| r.scheduled_at_ms)
            .collect::<Vec<_>>(),
        [4_000, 2_000]
    );

    let window = store
        .list_runs(
            &RunFilter {
                from_ms: Some(2_000),
                to_ms: Some(4_000),
                ..RunFilter::default()
            },
            &RunPage::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|r| r.scheduled_at_ms).collect::<Vec<_>>(),
        [3_000, 2_500, 2_000]
    );

    // Page through everything two at a time.
    let mut seen = Vec::new();
    let mut before: Option<RunCursor> = None;
    loop {
        let page = store
            .list_runs(&RunFilter::default(), &RunPage { limit: 2, before })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|r| r.scheduled_at_ms));
        before = page.last().map(RunCursor::from);
    }
    assert_eq!(seen, ticks);
}

/// `runs.keep_*`: a job's runs of the limited statuses beyond its newest `keep` go — but
/// never one within the takeover look-back below its newest tick, and never another status.
async fn history_limits_keep_the_newest_runs_and_the_takeover_window(db: &Db) {
    let store = &db.store;
    let a = owned_job(store, "limited-a").await;
    let b = owned_job(store, "limited-b").await;
    let (a, b) = (
        store.get_job(&a.id).await.unwrap().unwrap(),
        store.get_job(&b.id).await.unwrap().unwrap(),
    );
    let minute = 60_000;
    let base = 1_000_000_000;
    let mut runs = Vec::new();
    // Job a: a tick a minute for 40 minutes, every fourth failed; a manual run among them.
    for i in 0..40 {
        let id = started(store, &new_run(&a, base + i * minute)).await;
        let outcome = if i % 4 == 3 {
            FinishRun {
                status: RunStatus::Failed,
                ..succeeded("boom")
            }
        } else {
            succeeded("ok")
        };
        store.finish_run(id, a.epoch, &outcome).await.unwrap();
        runs.push((i, id, outcome.status));
    }
    // Job b: three succeeded ticks, all older than its look-back but for the newest.
    for i in 0..3 {
        let id = started(store, &new_run(&b, base + i * 20 * minute)).await;
        store
            .finish_run(id, b.epoch, &succeeded("ok"))
            .await
            .unwrap();
    }
    let deleted = store
        .delete_runs_over(&[RunStatus::Succeeded], 2)
        .await
        .unwrap();
    // a: newest tick at 39 min; the look-back keeps the ticks from 24 min on; the newest two
    // succeeded are within it, so the 18 succeeded ticks at 0..=23 min go. b (ticks at 0,
    // 20 and 40 min): the one at 0 is neither among its newest two nor in its window.
    assert_eq!(deleted, 19);
    let left = store
        .list_runs(
            &RunFilter {
                job_id: Some(a.id.clone()),
                ..RunFilter::default()
            },
            &RunPage {
                limit: 100,
                before: None,
            },
        )
        .await
        .unwrap();
    let ticks: BTreeSet<i64> = left
        .iter()
        .map(|r| (r.scheduled_at_ms - base) / minute)
        .collect();
    let expected: BTreeSet<i64> = (0..40).filter(|i| i % 4 == 3 || *i >= 24).collect();
    assert_eq!(ticks, expected, "failed runs and the look-back window stay");
    // Failed runs limited too, to one: those below the window but the newest failed go.
    let deleted = store
        .delete_runs_over(&[RunStatus::Failed, RunStatus::TimedOut], 1)
        .await
        .unwrap();
    assert_eq!(
        deleted, 6,
        "failed at 3, 7, …, 23 min (the newest failed is at 39)"
    );
    let b_runs = runs_of(store, &b.id).await;
    assert_eq!(b_runs.len(), 2, "b keeps its newest two");
    assert_eq!(
        store.last_tick_ms(&a.id).await.unwrap(),
        Some(base + 39 * minute)
    );
    assert_eq!(
        store
            .delete_runs_over(&[RunStatus::Succeeded], 2)
            .await
            .unwrap(),
        0
    );
}

/// The limits walk the jobs page by page (500 a page): a job on a later page is limited too.
async fn history_limits_reach_every_job_past_the_first_page(db: &Db) {
    let store = &db.store;
    let jobs = 501;
    create_numbered(store, "paged", jobs, "*/5 * * * *").await;
    store
        .heartbeat(INSTANCE, "127.0.0.1:1", "test")
        .await
        .unwrap();
    let owned = store.claim_jobs(INSTANCE, 60_000).await.unwrap();
    assert_eq!(owned.len(), jobs);
    // Ticks at 0, 20 and 40 minutes: with one kept, the two older ones are outside the
    // take-over look-back (15 minutes below the newest) and go.
    let minute = 60_000;
    let runs: Vec<NewRun> = owned
        .iter()
        .flat_map(|job| [0, 20, 40].map(|m| new_run(job, 1_000_000_000 + m * minute)))
        .collect();
    let started: Vec<(i64, i64, FinishRun)> = store
        .begin_runs(&runs)
        .await
        .unwrap()
        .into_iter()
        .zip(&runs)
        .map(|(answer, run)| match answer {
            BeginRun::Started(id) => (id, run.epoch, succeeded("ok")),
            other => panic!("expected the run to start, got {other:?}"),
        })
        .collect();
    store.finish_runs(&started).await.unwrap();
    let deleted = store
        .delete_runs_over(&[RunStatus::Succeeded], 1)
        .await
        .unwrap();
    assert_eq!(
        deleted,
        2 * jobs as u64,
        "two runs of every job, the last one's too"
    );
    let last = owned.iter().max_by_key(|j| j.name.clone()).unwrap();
    let left = runs_of(store, &last.id).await;
    assert_eq!(
        left.iter().map(|r| r.scheduled_at_ms).collect::<Vec<_>>(),
        vec![1_000_000_000 + 40 * minute],
        "the job on the second page keeps only its newest run"
    );
}

async fn retention_keeps_the_newest_run_per_job(db: &Db) {
    let store = &db.store;
    let a = owned_job(store, "old-a").await;
    let b = owned_job(store, "old-b").await;
    let a = store.get_job(&a.id).await.unwrap().unwrap();
    let b = store.get_job(&b.id).await.unwrap().unwrap();
    let mut a_runs = Vec::new();
    for at in [1_000, 2_000, 3_000] {
        let id = started(store, &new_run(&a, at)).await;
        store
            .finish_run(id, a.epoch, &succeeded("ok"))
            .await
            .unwrap();
        a_runs.push(id);
    }
    let mut a_manual = new_run(&a, 3_500);
    a_manual.manual = true;
    let manual_id = started(store, &a_manual).await;
    store
        .finish_run(manual_id, a.epoch, &succeeded("ok"))
        .await
        .unwrap();
    let still_running = started(store, &new_run(&a, 500)).await;
    let b_only = started(store, &new_run(&b, 1_000)).await;
    store
        .finish_run(b_only, b.epoch, &succeeded("ok"))
        .await
        .unwrap();
    let b_new = started(store, &new_run(&b, 9_000)).await;
    store
        .finish_run(b_new, b.epoch, &succeeded("ok"))
        .await
        .unwrap();

    let deleted = store.delete_runs_before(5_000).await.unwrap();
    assert_eq!(deleted, 4, "a@1000, a@2000, the old manual run, b@1000");
    let left: HashSet<i64> = store
        .list_runs(&RunFilter::default(), &RunPage::default())
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, HashSet::from([a_runs[2], still_running, b_new]));
    assert_eq!(
        store.last_tick_ms(&a.id).await.unwrap(),
        Some(3_000),
        "cursor survives"
    );
    assert_eq!(store.delete_runs_before(5_000).await.unwrap(), 0);
}

async fn state_is_fenced(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "stateful").await;
    assert_eq!(store.state_get(&job.id, "count").await.unwrap(), None);
    assert!(
        store
            .state_set(&job.id, "count", b"1", INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert!(
        store
            .state_set(&job.id, "count", b"2", INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert!(
        store
            .state_set(&job.id, "bin", &[0, 255, 0], INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert_eq!(
        store.state_get(&job.id, "count").await.unwrap(),
        Some(b"2".to_vec())
    );
    assert_eq!(
        store.state_get(&job.id, "bin").await.unwrap(),
        Some(vec![0, 255, 0])
    );
    assert_eq!(store.state_keys(&job.id).await.unwrap(), ["bin", "count"]);

    assert!(
        !store
            .state_set(&job.id, "count", b"3", INSTANCE, job.epoch - 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .state_set(&job.id, "count", b"3", "replica-b", job.epoch)
            .await
            .unwrap()
    );
    assert!(
        store
            .release_job(&job.id, INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert!(
        !store
            .state_set(&job.id, "count", b"3", INSTANCE, job.epoch)
            .await
            .unwrap()
    );
    assert_eq!(
        store.state_get(&job.id, "count").await.unwrap(),
        Some(b"2".to_vec())
    );
}

async fn heartbeat_upserts_and_liveness(db: &Db) {
    let store = &db.store;
    let first = store
        .heartbeat("r1", "10.0.0.1:8080", "0.1.0")
        .await
        .unwrap();
    store
        .heartbeat("r2", "10.0.0.2:8080", "0.1.0")
        .await
        .unwrap();
    let live = store.live_instances(60_000).await.unwrap();
    assert_eq!(
        live.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["r1", "r2"]
    );
    let r1 = &live[0];
    assert_eq!(
        (r1.address.as_str(), r1.started_at_ms, r1.heartbeat_at_ms),
        ("10.0.0.1:8080", first, first)
    );

    wait_for_db_clock_past(store, first).await;
    let second = store
        .heartbeat("r1", "10.0.0.1:9090", "0.2.0")
        .await
        .unwrap();
    assert!(second > first);
    let r1 = store.live_instances(60_000).await.unwrap().remove(0);
    assert_eq!(
        (r1.address.as_str(), r1.version.as_str()),
        ("10.0.0.1:9090", "0.2.0")
    );
    assert_eq!(r1.started_at_ms, first, "a heartbeat keeps the start time");

    store.leave("r1").await.unwrap();
    let live = store.live_instances(60_000).await.unwrap();
    assert_eq!(
        live.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["r2"]
    );
    assert!(store.all_instances().await.unwrap()[0].left_at_ms.is_some());

    // Coming back after leaving registers again, as a fresh start.
    wait_for_db_clock_past(store, second).await;
    let third = store
        .heartbeat("r1", "10.0.0.1:9090", "0.2.0")
        .await
        .unwrap();
    let r1 = store.live_instances(60_000).await.unwrap().remove(0);
    assert_eq!(
        (r1.id.as_str(), r1.left_at_ms, r1.started_at_ms),
        ("r1", None, third)
    );

    // Dead by silence: nobody heartbeats within the last 50 ms.
    wait_for_db_clock_past(store, third + 50).await;
    assert!(
        store
            .live_instances(50)
            .await
            .unwrap()
            .iter()
            .all(|i| i.id != "r1")
    );
}

async fn claim_jobs_from_dead_and_departed_instances(db: &Db) {
    let store = &db.store;
    for name in ["c1", "c2", "c3"] {
        store
            .create_job(NewJob::new(name, "* * * * *", "hello"))
            .await
            .unwrap();
    }
    store.heartbeat("a", "x", "v").await.unwrap();
    store.heartbeat("b", "x", "v").await.unwrap();
    let first = store
        .claim_jobs_limited("a", 60_000, Some(2))
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert!(
        first
            .iter()
            .all(|j| j.owner.as_deref() == Some("a") && j.epoch == 1)
    );
    let rest = store.claim_jobs("b", 60_000).await.unwrap();
    assert_eq!(
        rest.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        ["c3"]
    );
    assert!(
        store.claim_jobs("b", 60_000).await.unwrap().is_empty(),
        "a is live"
    );
    assert!(
        store.claim_jobs("a", 60_000).await.unwrap().is_empty(),
        "nothing for a either"
    );

    let counts = store.owned_job_counts().await.unwrap();
    assert_eq!(counts, vec![("a".to_owned(), 2), ("b".to_owned(), 1)]);
    let versions = store.owned_job_versions("a").await.unwrap();
    assert_eq!(versions.len(), 2);
    assert!(
        versions
            .iter()
            .all(|(_, version, epoch)| (*version, *epoch) == (1, 1))
    );
    assert_eq!(store.list_owned_jobs("a").await.unwrap().len(), 2);

    // a goes silent: b takes a's jobs once a's heartbeat is older than dead_after.
    let b_beat = store.heartbeat("b", "x", "v").await.unwrap();
    wait_for_db_clock_past(store, b_beat + 30).await;
    store.heartbeat("b", "x", "v").await.unwrap();
    let taken = store.claim_jobs("b", 30).await.unwrap();
    assert_eq!(
        taken.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert!(
        taken
            .iter()
            .all(|j| j.owner.as_deref() == Some("b") && j.epoch == 2)
    );
    assert!(store.list_owned_jobs("a").await.unwrap().is_empty());

    // a heartbeats again (re-registers) but owns nothing until jobs are released.
    store.heartbeat("a", "x", "v").await.unwrap();
    assert!(store.claim_jobs("a", 60_000).await.unwrap().is_empty());
    assert_eq!(store.release_jobs("b").await.unwrap(), 3);
    let released = store.get_job("c1").await.unwrap().unwrap();
    assert_eq!((released.owner, released.epoch), (None, 3));
    let back = store.claim_jobs("a", 60_000).await.unwrap();
    assert_eq!(back.len(), 3);
    assert!(back.iter().all(|j| j.owner.as_deref() == Some("a")));

    // A departed owner's jobs are free at once.
    store.leave("a").await.unwrap();
    assert_eq!(store.claim_jobs("b", 60_000).await.unwrap().len(), 3);
}

async fn settings_round_trip(db: &Db) {
    let store = &db.store;
    assert!(store.settings_all().await.unwrap().is_empty());
    store
        .setting_put("paused", &serde_json::json!(true))
        .await
        .unwrap();
    store
        .setting_put("config", &serde_json::json!({"region": "eu"}))
        .await
        .unwrap();
    store
        .setting_put("paused", &serde_json::json!(false))
        .await
        .unwrap();
    assert_eq!(
        store.settings_all().await.unwrap(),
        vec![
            ("config".to_owned(), serde_json::json!({"region": "eu"})),
            ("paused".to_owned(), serde_json::json!(false)),
        ]
    );
    assert!(store.setting_delete("paused").await.unwrap());
    assert!(!store.setting_delete("paused").await.unwrap());
    assert_eq!(store.settings_all().await.unwrap().len(), 1);
}

async fn schema_too_new_is_refused(db: &Db) {
    let (store, url) = (&db.store, db.url.as_str());
    let known = store.known_schema_version();
    let future = known + 1;
    (db.engine.record_schema_version)(url, future).await;
    let again = Store::connect(url).await.unwrap();
    let error = again
        .migrate()
        .await
        .expect_err("a newer schema must be refused");
    match &error {
        StoreError::SchemaTooNew { found, known: k } => assert_eq!((*found, *k), (future, known)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "database schema version {future} is newer than this wasmcron knows ({known}); upgrade wasmcron"
        )
    );
    assert!(!error.is_unavailable());
}

async fn ownership_view_orphans_and_stale_instances(db: &Db) {
    let store = &db.store;
    for name in ["o1", "o2", "o3", "o4"] {
        store
            .create_job(NewJob::new(name, "* * * * *", "hello"))
            .await
            .unwrap();
    }
    let a_beat = store.heartbeat("a", "x", "v").await.unwrap();
    store.heartbeat("b", "x", "v").await.unwrap();
    assert_eq!(
        store
            .claim_jobs_limited("a", 60_000, Some(2))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .claim_jobs_limited("b", 60_000, Some(1))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .claim_jobs_limited("b", 60_000, Some(0))
            .await
            .unwrap()
            .is_empty()
    );

    let view = store.ownership(60_000).await.unwrap();
    assert_eq!(view.live, vec![("a".to_owned(), 2), ("b".to_owned(), 1)]);
    assert_eq!((view.orphans, view.total()), (1, 4));
    assert!(view.is_live("a") && view.count("a") == 2 && view.count("c") == 0);
    assert_eq!(
        store.orphan_summary(60_000).await.unwrap(),
        vec![(None, 1)],
        "only the unowned job lacks a live owner"
    );

    // a goes silent; b keeps heartbeating.
    wait_for_db_clock_past(store, a_beat + 500).await;
    store.heartbeat("b", "x", "v").await.unwrap();
    let view = store.ownership(500).await.unwrap();
    assert_eq!(view.live, vec![("b".to_owned(), 1)]);
    assert_eq!(view.orphans, 3, "a's two jobs and the unowned one");
    assert!(!view.is_live("a"));
    assert_eq!(
        store.orphan_summary(500).await.unwrap(),
        vec![(Some("a".to_owned()), 2), (None, 1)],
        "dead owners by id, then the jobs without an owner"
    );

    // Instances long silent go, unless they still own jobs.
    let gone_beat = store.heartbeat("gone", "x", "v").await.unwrap();
    wait_for_db_clock_past(store, gone_beat + 50).await;
    assert_eq!(store.delete_stale_instances(50).await.unwrap(), 1);
    let ids: Vec<String> = store
        .all_instances()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["a", "b"], "a still owns jobs; b owns one");

    store.heartbeat("b", "x", "v").await.unwrap();
    assert_eq!(store.claim_jobs("b", 500).await.unwrap().len(), 3);
    let view = store.ownership(500).await.unwrap();
    assert_eq!((view.live, view.orphans), (vec![("b".to_owned(), 4)], 0));
    assert_eq!(
        store.orphan_summary(500).await.unwrap(),
        vec![(None, 0)],
        "the unowned count is always reported"
    );
}

async fn hand_over_and_release_are_fenced(db: &Db) {
    let store = &db.store;
    for name in ["h1", "h2", "h3"] {
        store
            .create_job(NewJob::new(name, "* * * * *", "hello"))
            .await
            .unwrap();
    }
    store.heartbeat("a", "x", "v").await.unwrap();
    store.heartbeat("b", "x", "v").await.unwrap();
    let owned: Vec<(String, i64)> = store
        .claim_jobs("a", 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.id, j.epoch))
        .collect();
    assert_eq!(owned.len(), 3);
    let (h1, epoch) = owned[0].clone();

    assert!(
        store
            .hand_over("a", "b", &[(h1.clone(), epoch - 1)])
            .await
            .unwrap()
            .is_empty(),
        "a stale epoch hands nothing over"
    );
    assert!(
        store
            .hand_over("b", "a", &[(h1.clone(), epoch)])
            .await
            .unwrap()
            .is_empty(),
        "only the owner hands over"
    );
    assert!(store.hand_over("a", "b", &[]).await.unwrap().is_empty());

    let moved: HashSet<String> = store
        .hand_over("a", "b", &owned[..2])
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        moved,
        HashSet::from([owned[0].0.clone(), owned[1].0.clone()])
    );
    let h1_now = store.get_job(&h1).await.unwrap().unwrap();
    assert_eq!(
        (h1_now.owner.as_deref(), h1_now.epoch),
        (Some("b"), epoch + 1)
    );
    assert_eq!(
        store.owned_job_counts().await.unwrap(),
        vec![("a".to_owned(), 1), ("b".to_owned(), 2)]
    );

    assert!(!store.release_job(&h1, "a", epoch + 1).await.unwrap());
    assert!(!store.release_job(&h1, "b", epoch).await.unwrap());
    assert!(store.release_job(&h1, "b", epoch + 1).await.unwrap());
    let released = store.get_job(&h1).await.unwrap().unwrap();
    assert_eq!((released.owner, released.epoch), (None, epoch + 2));
}

async fn take_over_abandons_and_finds_the_cursor(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "inherited").await;
    let other = owned_job(store, "not-taken").await;
    let base = job.anchor_ms;
    let cut_off = started(store, &new_run(&job, base + 1_000)).await;
    let done = started(store, &new_run(&job, base + 2_000)).await;
    store
        .finish_run(done, job.epoch, &succeeded("ok"))
        .await
        .unwrap();
    let mut manual = new_run(&job, base + 5_000);
    manual.manual = true;
    started(store, &manual).await;

    // replica-a goes silent; replica-b claims its jobs.
    let a_beat = store
        .heartbeat(INSTANCE, "127.0.0.1:1", "test")
        .await
        .unwrap();
    wait_for_db_clock_past(store, a_beat + 50).await;
    store
        .heartbeat("replica-b", "127.0.0.1:2", "test")
        .await
        .unwrap();
    assert_eq!(store.claim_jobs("replica-b", 50).await.unwrap().len(), 2);

    let ids = vec![job.id.clone(), "no-such-job".to_owned()];
    let taken = store.take_over("replica-b", &ids).await.unwrap();
    assert_eq!(taken.len(), 1, "only the listed jobs that replica-b owns");
    let t = &taken[0];
    assert_eq!(t.job.id, job.id);
    assert_eq!(
        (t.job.owner.as_deref(), t.job.epoch),
        (Some("replica-b"), job.epoch + 1)
    );
    assert_eq!(t.last_tick_ms, Some(base + 2_000), "manual runs aside");
    assert_eq!(t.window_from_ms(), Some(base));
    assert_eq!(t.recorded_in_window, 2);
    let abandoned = store.get_run(cut_off).await.unwrap().unwrap();
    assert_eq!(abandoned.status, RunStatus::Failed);
    assert_eq!(abandoned.reason, Some(RunReason::Abandoned));
    assert!(abandoned.error.is_some());
    assert_eq!(
        store.get_run(done).await.unwrap().unwrap().status,
        RunStatus::Succeeded
    );
    assert!(store.take_over("replica-b", &[]).await.unwrap().is_empty());
    assert!(
        store
            .take_over(INSTANCE, std::slice::from_ref(&job.id))
            .await
            .unwrap()
            .is_empty(),
        "the previous owner takes over nothing"
    );

    let fresh = store
        .take_over("replica-b", std::slice::from_ref(&other.id))
        .await
        .unwrap();
    assert_eq!(
        (fresh[0].last_tick_ms, fresh[0].recorded_in_window),
        (None, 0)
    );

    let after = store
        .recorded_after(&[(job.id.clone(), base + 1_000), (other.id.clone(), base)])
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[&job.id], BTreeSet::from([base + 2_000]));
    assert!(store.recorded_after(&[]).await.unwrap().is_empty());
    assert!(
        store
            .recorded_after(&[(job.id.clone(), base + 2_000)])
            .await
            .unwrap()
            .is_empty()
    );
}

/// A take-over counts the ticks of the last [`HOLE_LOOKBACK_MS`] before the newest one when
/// that is later than the job's anchor.
async fn take_over_counts_ticks_within_the_lookback_only(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "long-lived").await;
    let newest = job.anchor_ms + HOLE_LOOKBACK_MS + 10 * 60_000;
    let floor = newest - HOLE_LOOKBACK_MS;
    for at in [job.anchor_ms + 1_000, floor, floor + 1, newest] {
        started(store, &new_run(&job, at)).await;
    }
    let taken = store
        .take_over(INSTANCE, std::slice::from_ref(&job.id))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].last_tick_ms, Some(newest));
    assert_eq!(taken[0].window_from_ms(), Some(floor));
    assert_eq!(
        taken[0].recorded_in_window, 2,
        "the window starts after its floor"
    );
}

async fn leases_elect_one_holder(db: &Db) {
    let store = &db.store;
    let epoch = store
        .acquire_lease("housekeeping", "a", 60_000)
        .await
        .unwrap()
        .expect("a free lease is taken");
    assert_eq!(
        store
            .acquire_lease("housekeeping", "b", 60_000)
            .await
            .unwrap(),
        None,
        "a holds it"
    );
    assert_eq!(
        store
            .acquire_lease("housekeeping", "a", 60_000)
            .await
            .unwrap(),
        Some(epoch),
        "renewing keeps the epoch"
    );
    assert!(store.holds_lease("housekeeping", "a", epoch).await.unwrap());
    assert!(!store.holds_lease("housekeeping", "b", epoch).await.unwrap());
    assert!(
        !store
            .holds_lease("housekeeping", "a", epoch + 1)
            .await
            .unwrap()
    );
    assert_eq!(
        store.lease_holder("housekeeping").await.unwrap().as_deref(),
        Some("a")
    );
    store.release_lease("housekeeping", "b").await.unwrap();
    assert_eq!(
        store.lease_holder("housekeeping").await.unwrap().as_deref(),
        Some("a"),
        "only the holder releases"
    );
    store.release_lease("housekeeping", "a").await.unwrap();
    assert_eq!(store.lease_holder("housekeeping").await.unwrap(), None);
    assert!(
        store
            .acquire_lease("housekeeping", "b", 60_000)
            .await
            .unwrap()
            .is_some()
    );

    // An expired lease goes to whoever asks, under the next epoch.
    let short = store
        .acquire_lease("short", "a", 50)
        .await
        .unwrap()
        .expect("taken");
    let taken_at = store.now_ms().await.unwrap();
    wait_for_db_clock_past(store, taken_at + 50).await;
    assert_eq!(store.lease_holder("short").await.unwrap(), None);
    assert!(!store.holds_lease("short", "a", short).await.unwrap());
    assert_eq!(
        store.acquire_lease("short", "b", 60_000).await.unwrap(),
        Some(short + 1)
    );
    assert!(store.holds_lease("short", "b", short + 1).await.unwrap());
}

async fn events_append_read_and_prune(db: &Db) {
    let store = &db.store;
    assert_eq!(store.last_event_id().await.unwrap(), 0);
    assert!(store.events_after(0, 10).await.unwrap().is_empty());
    let before = store.now_ms().await.unwrap();
    let first = store
        .append_event("job.created", &serde_json::json!({"id": "x"}))
        .await
        .unwrap();
    let second = store
        .append_event("run.finished", &serde_json::json!({"n": [1, 2]}))
        .await
        .unwrap();
    assert!(second > first);
    assert_eq!(store.last_event_id().await.unwrap(), second);

    let all = store.events_after(0, 10).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|e| (e.id, e.kind.as_str()))
            .collect::<Vec<_>>(),
        [(first, "job.created"), (second, "run.finished")]
    );
    assert_eq!(all[1].payload, serde_json::json!({"n": [1, 2]}));
    assert!(all.iter().all(|e| e.at_ms >= before));
    assert_eq!(store.events_after(first, 10).await.unwrap()[0].id, second);
    assert_eq!(store.events_after(0, 1).await.unwrap().len(), 1);

    assert_eq!(
        store.prune_events(0, 1).await.unwrap(),
        1,
        "keeps the newest"
    );
    assert_eq!(store.events_after(0, 10).await.unwrap()[0].id, second);
    wait_for_db_clock_past(store, all[1].at_ms).await;
    let now = store.now_ms().await.unwrap();
    assert_eq!(store.prune_events(now, 100).await.unwrap(), 1, "by age");
    assert!(store.events_after(0, 10).await.unwrap().is_empty());
    assert_eq!(
        store.last_event_id().await.unwrap(),
        0,
        "the newest id once every event is gone"
    );
}

async fn events_appended_together_keep_their_order(db: &Db) {
    let store = &db.store;
    let lone = store
        .append_event("job.created", &serde_json::json!({"n": -1}))
        .await
        .unwrap();
    let mut listener = store.event_listener().await.unwrap();
    // More than one multi-row statement's worth, in one call.
    let batch: Vec<(&str, serde_json::Value)> = (0..1_200)
        .map(|n| {
            let kind = if n % 2 == 0 {
                "run.started"
            } else {
                "run.finished"
            };
            (kind, serde_json::json!({"n": n, "text": "x".repeat(n % 7)}))
        })
        .collect();
    let before = store.now_ms().await.unwrap();
    store.append_events(&batch).await.unwrap();
    store.append_events(&[]).await.unwrap();
    let stored = store.events_after(lone, 2_000).await.unwrap();
    assert_eq!(
        stored.len(),
        1_200,
        "every event of the batch, nothing more"
    );
    for (event, (kind, payload)) in stored.iter().zip(&batch) {
        assert_eq!((event.kind.as_str(), &event.payload), (*kind, payload));
    }
    assert!(
        stored.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase in order"
    );
    let at = stored[0].at_ms;
    assert!(
        at >= before && stored.iter().all(|e| e.at_ms == at),
        "one instant"
    );
    assert_eq!(store.last_event_id().await.unwrap(), stored[1_199].id);
    if let Some(listener) = listener.as_mut() {
        let (channel, _) = next_notification(listener).await;
        assert_eq!(channel, EVENTS_CHANNEL, "a batch is announced");
    }
}

async fn manual_triggers_wait_for_the_owner(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "by-hand").await;
    let first = store.insert_trigger(&job.id).await.unwrap();
    wait_for_db_clock_past(store, first).await;
    let second = store.insert_trigger(&job.id).await.unwrap();
    assert!(second > first);
    match store.insert_trigger("no-such-job").await {
        Err(StoreError::JobNotFound(id)) => assert_eq!(id, "no-such-job"),
        other => panic!("expected JobNotFound, got {other:?}"),
    }

    let pending = store.owned_triggers(INSTANCE).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|t| t.scheduled_at_ms)
            .collect::<Vec<_>>(),
        [first, second],
        "oldest first"
    );
    assert_eq!(
        pending[0].job,
        store.get_job(&job.id).await.unwrap().unwrap()
    );
    assert!(store.owned_triggers("replica-b").await.unwrap().is_empty());

    store.delete_trigger(pending[0].id).await.unwrap();
    assert_eq!(store.owned_triggers(INSTANCE).await.unwrap().len(), 1);
    assert_eq!(store.expire_triggers(second).await.unwrap(), 0);
    assert_eq!(store.expire_triggers(second + 1).await.unwrap(), 1);
    assert!(store.owned_triggers(INSTANCE).await.unwrap().is_empty());
}

async fn an_owners_triggers_are_found_behind_other_replicas_triggers(db: &Db) {
    let store = &db.store;
    let theirs = create_numbered(store, "theirs", 250, "*/5 * * * *").await;
    store
        .heartbeat("replica-b", "127.0.0.1:2", "test")
        .await
        .unwrap();
    assert_eq!(
        store.claim_jobs("replica-b", 60_000).await.unwrap().len(),
        250
    );
    for job in &theirs {
        store.insert_trigger(&job.id).await.unwrap();
    }
    let mine = owned_job(store, "mine").await;
    assert_eq!(mine.owner.as_deref(), Some(INSTANCE));
    let first = store.insert_trigger(&mine.id).await.unwrap();
    wait_for_db_clock_past(store, first).await;
    let second = store.insert_trigger(&mine.id).await.unwrap();

    // Past three pages of another replica's triggers.
    let pending = store.owned_triggers(INSTANCE).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|t| (t.job.name.as_str(), t.scheduled_at_ms))
            .collect::<Vec<_>>(),
        [("mine", first), ("mine", second)],
        "only the owner's, oldest first"
    );
    // At most 100 at a time, the oldest.
    let names: Vec<String> = store
        .owned_triggers("replica-b")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.job.name)
        .collect();
    let expected: Vec<String> = theirs.iter().take(100).map(|j| j.name.clone()).collect();
    assert_eq!(names, expected);
}

async fn tokens_round_trip(db: &Db) {
    let store = &db.store;
    assert!(store.tokens_all().await.unwrap().is_empty());
    let before = store.now_ms().await.unwrap();
    let ci = store
        .token_create("ci", "admin", "aa11", Some("root"))
        .await
        .unwrap()
        .expect("created");
    assert_eq!(
        (
            ci.name.as_str(),
            ci.role.as_str(),
            ci.sha256.as_str(),
            ci.created_by.as_deref(),
            ci.last_used_ms
        ),
        ("ci", "admin", "aa11", Some("root"), None)
    );
    assert!(ci.created_at_ms >= before);
    assert_eq!(
        store
            .token_create("ci", "read", "bb22", None)
            .await
            .unwrap(),
        None,
        "names are unique"
    );
    store
        .token_create("dashboard", "read", "cc33", None)
        .await
        .unwrap()
        .expect("created");
    store.token_touch("ci").await.unwrap();
    let all = store.tokens_all().await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["ci", "dashboard"]
    );
    assert_eq!(all[0].sha256, "aa11", "the first token stands");
    assert!(all[0].last_used_ms.is_some_and(|at| at >= ci.created_at_ms));
    assert!(store.token_delete("ci").await.unwrap());
    assert!(!store.token_delete("ci").await.unwrap());
    assert_eq!(store.tokens_all().await.unwrap().len(), 1);
}

async fn session_end_marks_a_replica_dead_at_once(db: &Db) {
    let store = &db.store;
    let opened = store.open_session("r1").await.unwrap();
    if !db.engine.sessions {
        assert!(opened.is_none(), "{} has no sessions", db.engine.name);
        db.skip(
            "session_end_marks_a_replica_dead_at_once",
            "no server sessions; the heartbeat alone decides liveness",
        );
        return;
    }
    let mut session = opened.expect("a session");
    assert!(session.locked());
    let beat = session.heartbeat("10.0.0.1:1", "0.1.0").await.unwrap();
    let live = store.live_instances(60_000).await.unwrap();
    assert_eq!(
        live.iter()
            .map(|i| (i.id.as_str(), i.heartbeat_at_ms))
            .collect::<Vec<_>>(),
        [("r1", beat)]
    );

    // A second process with the same instance id does not get the lock.
    let twin = store.open_session("r1").await.unwrap().expect("a session");
    assert!(!twin.locked());
    assert_ne!(twin.pid(), session.pid());
    twin.close().await;
    assert_eq!(store.live_instances(60_000).await.unwrap().len(), 1);

    // The session ends (the process is gone): dead at once, though its heartbeat is fresh.
    session.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store.live_instances(60_000).await.unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "still live after its session ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store.orphan_summary(60_000).await.unwrap(),
        vec![(None, 0)],
        "r1 owns nothing, so it is no orphan source"
    );

    // A new session brings it back.
    let mut again = store.open_session("r1").await.unwrap().expect("a session");
    assert!(again.locked());
    again.heartbeat("10.0.0.1:1", "0.1.0").await.unwrap();
    assert_eq!(store.live_instances(60_000).await.unwrap().len(), 1);
    again.close().await;
}

async fn notifications_reach_listeners(db: &Db) {
    let store = &db.store;
    let changes = store.listen().await.unwrap();
    let settings = store.listen_settings().await.unwrap();
    let events = store.event_listener().await.unwrap();
    if !db.engine.notifications {
        assert!(changes.is_none() && settings.is_none() && events.is_none());
        // Announcing is then a no-op, never an error.
        store.notify_job_changed("job-1").await.unwrap();
        store.notify_cluster_changed("replica-x").await.unwrap();
        store.notify_settings_changed().await.unwrap();
        db.skip(
            "notifications_reach_listeners",
            "no change notifications; replicas reconcile periodically",
        );
        return;
    }
    let (mut changes, mut settings, mut events) = (
        changes.expect("listener"),
        settings.expect("listener"),
        events.expect("listener"),
    );
    store.notify_job_changed("job-1").await.unwrap();
    assert_eq!(
        next_notification(&mut changes).await,
        (JOBS_CHANNEL.to_owned(), "job-1".to_owned())
    );
    store.notify_cluster_changed("replica-x").await.unwrap();
    assert_eq!(
        next_notification(&mut changes).await,
        (CLUSTER_CHANNEL.to_owned(), "replica-x".to_owned())
    );
    store
        .setting_put("paused", &serde_json::json!(true))
        .await
        .unwrap();
    assert_eq!(
        next_notification(&mut settings).await.0,
        SETTINGS_CHANNEL,
        "a settings write is announced"
    );
    let id = store
        .append_event("job.created", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(
        next_notification(&mut events).await,
        (EVENTS_CHANNEL.to_owned(), id.to_string())
    );
}

/// The next notification, within a deadline.
fn failed(error: &str) -> FinishRun {
    FinishRun {
        status: RunStatus::Failed,
        result: None,
        error: Some(error.to_owned()),
        logs: None,
    }
}

/// A tick's first attempt, started and failed with its retry planned `delay_ms` from now.
async fn failed_with_retry(store: &Store, job: &wasmcron::store::Job, at: i64, delay_ms: i64) {
    let id = started(store, &new_run(job, at)).await;
    assert_eq!(
        store
            .finish_and_plan_retry(id, job.epoch, &failed("boom"), delay_ms)
            .await
            .unwrap(),
        Finished::Ok
    );
}

async fn a_retry_is_planned_with_the_failure_and_starts_once(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "retried").await;
    let tick = 1_000_000;
    failed_with_retry(store, &job, tick, 0).await;
    match store.retry_wait(&job.id, tick, 2).await.unwrap() {
        RetryWait::DueIn(ms) => assert!(ms <= 0, "due at once: {ms}"),
        other => panic!("attempt 2 is planned: {other:?}"),
    }
    assert_eq!(
        store.retry_wait(&job.id, tick, 3).await.unwrap(),
        RetryWait::Gone
    );
    let planned = store.owned_retries(INSTANCE).await.unwrap();
    assert_eq!(planned.len(), 1);
    assert_eq!(
        (
            planned[0].job_id.as_str(),
            planned[0].scheduled_at_ms,
            planned[0].attempt
        ),
        (job.id.as_str(), tick, 2)
    );
    assert!(!planned[0].manual && !planned[0].catch_up);

    let second = NewRun {
        attempt: 2,
        ..new_run(&job, tick)
    };
    let BeginRun::Started(second_id) = store.begin_attempt(&second).await.unwrap() else {
        panic!("the planned attempt starts");
    };
    assert_eq!(
        store.begin_attempt(&second).await.unwrap(),
        BeginRun::AlreadyRecorded,
        "an attempt starts once: its plan is consumed"
    );
    assert_eq!(
        store.retry_wait(&job.id, tick, 2).await.unwrap(),
        RetryWait::Gone
    );
    assert!(store.owned_retries(INSTANCE).await.unwrap().is_empty());
    assert_eq!(
        store.begin_run(&new_run(&job, tick)).await.unwrap(),
        BeginRun::AlreadyRecorded,
        "the tick's first attempt is still recorded once"
    );
    let third = NewRun {
        attempt: 3,
        ..new_run(&job, tick)
    };
    assert_eq!(
        store.begin_attempt(&third).await.unwrap(),
        BeginRun::AlreadyRecorded,
        "an attempt that was never planned does not start"
    );
    assert!(
        store.begin_attempt(&new_run(&job, tick)).await.is_err(),
        "attempt 1 is not a retry"
    );
    store
        .finish_run(second_id, job.epoch, &succeeded("ok"))
        .await
        .unwrap();
    let runs = runs_of(store, &job.id).await;
    let attempts: Vec<(i64, i32, RunStatus)> = runs
        .iter()
        .map(|r| (r.scheduled_at_ms, r.attempt, r.status))
        .collect();
    assert_eq!(
        attempts,
        vec![
            (tick, 2, RunStatus::Succeeded),
            (tick, 1, RunStatus::Failed)
        ]
    );
    assert!(store.tick_recorded(&job.id, tick).await.unwrap());
    assert_eq!(store.last_tick_ms(&job.id).await.unwrap(), Some(tick));

    // A plan in the future: due in about its delay, by the database clock.
    failed_with_retry(store, &job, tick + 60_000, 3_600_000).await;
    match store.retry_wait(&job.id, tick + 60_000, 2).await.unwrap() {
        RetryWait::DueIn(ms) => assert!((3_500_000..=3_600_000).contains(&ms), "{ms}"),
        other => panic!("planned: {other:?}"),
    }
    assert!(store.drop_retry(&job.id, tick + 60_000, 2).await.unwrap());
    assert!(!store.drop_retry(&job.id, tick + 60_000, 2).await.unwrap());
}

async fn a_planned_retry_is_fenced_and_waits_for_the_next_owner(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "handed").await;
    let tick = 2_000_000;
    let id = started(store, &new_run(&job, tick)).await;
    assert_eq!(
        store
            .finish_and_plan_retry(id, job.epoch - 1, &failed("boom"), 0)
            .await
            .unwrap(),
        Finished::Fenced,
        "a stale epoch neither finishes nor plans"
    );
    assert_eq!(
        store.retry_wait(&job.id, tick, 2).await.unwrap(),
        RetryWait::Gone
    );
    store
        .finish_and_plan_retry(id, job.epoch, &failed("boom"), 0)
        .await
        .unwrap();

    store.heartbeat("other", "x", "v").await.unwrap();
    let moved = store
        .hand_over(INSTANCE, "other", &[(job.id.clone(), job.epoch)])
        .await
        .unwrap();
    assert_eq!(moved, vec![job.id.clone()]);
    let retry = NewRun {
        attempt: 2,
        ..new_run(&job, tick)
    };
    assert_eq!(
        store.begin_attempt(&retry).await.unwrap(),
        BeginRun::Fenced,
        "the old owner cannot start it"
    );
    assert!(store.owned_retries(INSTANCE).await.unwrap().is_empty());
    let planned = store.owned_retries("other").await.unwrap();
    assert_eq!(planned.len(), 1, "the plan stays, now the new owner's");
    let new_owner = NewRun {
        instance_id: "other".to_owned(),
        epoch: job.epoch + 1,
        ..retry
    };
    assert!(matches!(
        store.begin_attempt(&new_owner).await.unwrap(),
        BeginRun::Started(_)
    ));
    assert!(store.owned_retries("other").await.unwrap().is_empty());
}

async fn pause_edit_and_delete_drop_planned_retries(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "dropped").await;
    let planned = |n: usize| async move {
        assert_eq!(store.owned_retries(INSTANCE).await.unwrap().len(), n);
    };
    failed_with_retry(store, &job, 10_000, 60_000).await;
    planned(1).await;
    let patch = JobPatch {
        jitter_ms: Some(5),
        ..JobPatch::default()
    };
    store.update_job(&job.id, &patch, None).await.unwrap();
    planned(1).await;
    store.set_paused(&job.id, true).await.unwrap();
    planned(0).await;
    store.set_paused(&job.id, false).await.unwrap();

    failed_with_retry(store, &job, 20_000, 60_000).await;
    planned(1).await;
    let patch = JobPatch {
        schedule: Some("*/7 * * * *".into()),
        ..JobPatch::default()
    };
    store.update_job(&job.id, &patch, None).await.unwrap();
    planned(0).await;

    failed_with_retry(store, &job, 30_000, 60_000).await;
    planned(1).await;
    assert!(store.delete_job(&job.id).await.unwrap());
    planned(0).await;
}

async fn failure_policy_round_trips(db: &Db) {
    let store = &db.store;
    let mut new = NewJob::new("careful", "@hourly", "hello");
    new.failure.retry = Some(RetryPolicy {
        attempts: 3,
        backoff_ms: 1_000,
        max_backoff_ms: 60_000,
    });
    new.failure.pause_after_failures = Some(4);
    let job = store.create_job(new.clone()).await.unwrap();
    assert_eq!(job.failure, new.failure);
    assert_eq!(job.paused_reason, None);
    let read = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(read.failure, new.failure);
    let patch = JobPatch {
        retry: Some(None),
        stale_after_ms: Some(Some(3_600_000)),
        ..JobPatch::default()
    };
    let edited = store.update_job(&job.id, &patch, None).await.unwrap();
    assert_eq!(edited.failure.retry, None);
    assert_eq!(edited.failure.pause_after_failures, Some(4));
    assert_eq!(edited.failure.stale_after_ms, Some(3_600_000));
}

async fn last_success_and_stale_marks(db: &Db) {
    let store = &db.store;
    let job = owned_job(store, "watched").await;
    assert_eq!(store.last_success_ms(&job.id).await.unwrap(), None);
    let id = started(store, &new_run(&job, 1_000)).await;
    store
        .finish_run(id, job.epoch, &succeeded("ok"))
        .await
        .unwrap();
    let first = store
        .last_success_ms(&job.id)
        .await
        .unwrap()
        .expect("one success");
    let id = started(store, &new_run(&job, 2_000)).await;
    store
        .finish_run(id, job.epoch, &failed("no"))
        .await
        .unwrap();
    assert_eq!(
        store.last_success_ms(&job.id).await.unwrap(),
        Some(first),
        "a failure is not a success"
    );

    assert!(store.stale_jobs().await.unwrap().is_empty());
    assert!(store.mark_stale(&job.id).await.unwrap(), "marked once");
    assert!(!store.mark_stale(&job.id).await.unwrap(), "not twice");
    assert!(!store.mark_stale("no-such-job").await.unwrap());
    assert_eq!(store.stale_jobs().await.unwrap(), vec![job.id.clone()]);
    assert!(store.clear_stale(&job.id).await.unwrap(), "cleared once");
    assert!(!store.clear_stale(&job.id).await.unwrap());
    assert!(store.mark_stale(&job.id).await.unwrap());
    assert!(store.delete_job(&job.id).await.unwrap());
    assert!(
        store.stale_jobs().await.unwrap().is_empty(),
        "the mark goes with the job"
    );
}

async fn next_notification(listener: &mut ChangeListener) -> (String, String) {
    tokio::time::timeout(Duration::from_secs(10), listener.next())
        .await
        .expect("a notification within 10 s")
        .expect("listening")
        .expect("no gap")
}

// ----- engine-specific tests (outside the conformance matrix) ------------------------------------------------------------------

#[tokio::test]
async fn unsupported_and_unopenable_urls_are_clear_errors() {
    match Store::connect("oracle://u:secret@h/db").await {
        Err(e @ StoreError::UnsupportedUrl(_)) => {
            assert!(e.to_string().contains("oracle://u:***@h/db"), "{e}");
        }
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
    let missing = "sqlite:///nonexistent-dir-for-wasmcron-tests/x.db";
    match Store::connect(missing).await {
        Err(e @ StoreError::Open { .. }) => {
            assert!(
                e.to_string()
                    .starts_with(&format!("cannot open database \"{missing}\": ")),
                "{e}"
            );
        }
        other => panic!("expected Open error, got {other:?}"),
    }
}

#[tokio::test]
async fn sqlite_memory_database_works() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    store
        .create_job(NewJob::new("m", "* * * * *", "hello"))
        .await
        .unwrap();
    assert!(store.get_job("m").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_unavailable_then_recovers() {
    let server = pg::PgServer::start().expect("own server");
    let url = server.create_database("outage").unwrap();
    let options = ConnectOptions {
        operation_timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    };
    let store = Store::connect_with(&url, options.clone()).await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();

    server.stop().unwrap();
    let began = Instant::now();
    let error = loop {
        // The first call on a pooled connection may notice the cut itself; any call fails.
        match store.ping().await {
            Err(e) => break e,
            Ok(()) => assert!(
                began.elapsed() < Duration::from_secs(5),
                "server still answers"
            ),
        }
    };
    assert!(error.is_unavailable(), "{error:?}");
    assert!(
        error.to_string().starts_with("database unavailable: "),
        "{error}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "took {:?}",
        began.elapsed()
    );
    match Store::connect_with(&url, options).await {
        Err(e) => assert!(
            e.is_unavailable() && e.to_string().starts_with("cannot open database"),
            "{e}"
        ),
        Ok(_) => panic!("connected to a stopped server"),
    }

    server.resume().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.ping().await {
            Ok(()) => break,
            Err(e) => {
                assert!(e.is_unavailable(), "{e:?}");
                assert!(Instant::now() < deadline, "no recovery: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(store.get_job("anything").await.unwrap().is_none());
}

// ----- alert outbox --------------------------------------------------------------------------

fn alert(key: &str, job: Option<&str>, target: &str) -> NewAlert {
    NewAlert {
        dedup_key: format!("{key}@{target}"),
        event: "run.failed".into(),
        job_id: job.map(str::to_owned),
        job_name: job.map(|j| format!("{j}-name")),
        target: target.into(),
        host: "hooks.example.com".into(),
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

/// Dead-after for the alert claims of these tests: longer than any of them runs.
const LIVE_MS: i64 = 600_000;

/// Registers replicas `ids` (a live heartbeat each), as the holders of alert claims are.
async fn live_replicas(store: &Store, ids: &[&str]) {
    for id in ids {
        store.heartbeat(id, "127.0.0.1:1", "test").await.unwrap();
    }
}

async fn alerts_are_enqueued_once_and_claimed_under_a_lease(db: &Db) {
    let store = &db.store;
    live_replicas(store, &["a", "b"]).await;
    assert!(
        store
            .enqueue_alert(&alert("f1", Some("j1"), "t1"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .enqueue_alert(&alert("f1", Some("j1"), "t1"))
            .await
            .unwrap(),
        "the same fact for the same webhook is written once"
    );
    assert!(
        store
            .enqueue_alert(&alert("f1", Some("j1"), "t2"))
            .await
            .unwrap()
    );
    assert!(store.enqueue_alert(&alert("p1", None, "t1")).await.unwrap());

    // One claim per chain (job, webhook), each taken by one holder only.
    let a = store.claim_alerts("a", 60_000, LIVE_MS, 10).await.unwrap();
    assert_eq!(a.len(), 3);
    assert!(a.iter().all(|c| c.attempts == 0 && c.event == "run.failed"));
    assert_eq!(
        store.claim_alerts("b", 60_000, LIVE_MS, 10).await.unwrap(),
        vec![]
    );

    // Settled by its claim, once.
    let first = &a[0];
    assert_eq!(first.body, "{\"key\":\"f1\"}");
    assert!(
        store
            .settle_alert(first.id, first.claim, &AlertOutcome::Delivered)
            .await
            .unwrap()
    );
    assert!(
        !store
            .settle_alert(first.id, first.claim, &AlertOutcome::Delivered)
            .await
            .unwrap()
    );

    // An expired lease is taken over; the old claim can no longer settle the row.
    let short = store
        .enqueue_alert(&alert("f2", Some("j2"), "t1"))
        .await
        .unwrap();
    assert!(short);
    let taken = store.claim_alerts("a", 50, LIVE_MS, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    let at = store.now_ms().await.unwrap();
    wait_for_db_clock_past(store, at + 50).await;
    let retaken = store.claim_alerts("b", 60_000, LIVE_MS, 10).await.unwrap();
    assert_eq!(retaken.len(), 1);
    assert_eq!(retaken[0].id, taken[0].id);
    assert!(retaken[0].claim > taken[0].claim);
    assert!(
        !store
            .settle_alert(taken[0].id, taken[0].claim, &AlertOutcome::Delivered)
            .await
            .unwrap()
    );
    assert!(
        store
            .settle_alert(
                retaken[0].id,
                retaken[0].claim,
                &AlertOutcome::GiveUp {
                    error: "gone".into()
                }
            )
            .await
            .unwrap()
    );

    let recent = store.recent_alerts(10).await.unwrap();
    assert_eq!(recent.len(), 4);
    assert_eq!(recent[0].state, AlertState::GivenUp);
    assert_eq!(recent[0].last_error.as_deref(), Some("gone"));
    assert_eq!(recent[0].job_id.as_deref(), Some("j2"));
    assert_eq!(recent[0].job_name.as_deref(), Some("j2-name"));
    assert_eq!(recent[0].host, "hooks.example.com");
    let delivered = recent.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(
        (delivered.state, delivered.attempts),
        (AlertState::Delivered, 1)
    );
    assert!(delivered.done_at_ms.is_some());
    let plugin = recent.iter().find(|d| d.job_id.is_none()).unwrap();
    assert_eq!(plugin.state, AlertState::Pending);

    // Settled rows are pruned, pending ones kept.
    let now = store.now_ms().await.unwrap();
    wait_for_db_clock_past(store, now).await;
    assert_eq!(store.prune_alerts(now + 1).await.unwrap(), 2);
    assert_eq!(store.recent_alerts(10).await.unwrap().len(), 2);
}

async fn alerts_are_retried_after_their_backoff_in_order_per_job(db: &Db) {
    let store = &db.store;
    live_replicas(store, &["r", "s"]).await;
    for key in ["a1", "a2"] {
        store
            .enqueue_alert(&alert(key, Some("j1"), "t"))
            .await
            .unwrap();
    }
    store
        .enqueue_alert(&alert("b1", Some("j2"), "t"))
        .await
        .unwrap();

    // The head of each job's chain only.
    let claimed = store.claim_alerts("r", 60_000, LIVE_MS, 10).await.unwrap();
    let bodies: BTreeSet<_> = claimed.iter().map(|c| c.body.clone()).collect();
    assert_eq!(
        bodies,
        BTreeSet::from([
            "{\"key\":\"a1\"}".to_string(),
            "{\"key\":\"b1\"}".to_string()
        ])
    );
    let a1 = claimed
        .iter()
        .find(|c| c.body.contains("a1"))
        .unwrap()
        .clone();
    let b1 = claimed
        .iter()
        .find(|c| c.body.contains("b1"))
        .unwrap()
        .clone();
    assert!(
        store
            .settle_alert(b1.id, b1.claim, &AlertOutcome::Delivered)
            .await
            .unwrap()
    );

    // a1 fails: it waits out its backoff, and a2 waits behind it.
    let failed = AlertOutcome::Retry {
        error: "503".into(),
        delay_ms: 300,
    };
    assert!(store.settle_alert(a1.id, a1.claim, &failed).await.unwrap());
    let failed_at = store.now_ms().await.unwrap();
    assert_eq!(
        store.claim_alerts("r", 60_000, LIVE_MS, 10).await.unwrap(),
        vec![]
    );
    let recent = store.recent_alerts(10).await.unwrap();
    let row = recent.iter().find(|d| d.id == a1.id).unwrap();
    assert_eq!(
        (row.state, row.attempts, row.last_error.as_deref()),
        (AlertState::Pending, 1, Some("503"))
    );
    assert!(row.next_at_ms >= failed_at + 250, "due after its backoff");

    // Due again: a1 comes back (second attempt), still before a2.
    wait_for_db_clock_past(store, row.next_at_ms).await;
    let again = store.claim_alerts("s", 60_000, LIVE_MS, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (a1.id, 1));
    assert!(
        store
            .settle_alert(again[0].id, again[0].claim, &AlertOutcome::Delivered)
            .await
            .unwrap()
    );
    let next = store.claim_alerts("s", 60_000, LIVE_MS, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].body.contains("a2"));
}

/// A claim outlives its holder only while the holder is live: once it left, or its heartbeat
/// is older than dead-after, another replica takes the row over, long before the lease ends;
/// the old claim can no longer settle it.
async fn alerts_held_by_a_dead_replica_are_taken_over_before_their_lease_ends(db: &Db) {
    let store = &db.store;
    live_replicas(store, &["a", "b"]).await;
    for (key, job) in [("x1", "j1"), ("y1", "j2")] {
        store
            .enqueue_alert(&alert(key, Some(job), "t"))
            .await
            .unwrap();
    }
    let held = store
        .claim_alerts("a", 3_600_000, LIVE_MS, 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(
        store.claim_alerts("b", 60_000, LIVE_MS, 10).await.unwrap(),
        vec![],
        "a live holder keeps its claims"
    );

    // `a` stops heartbeating: seen dead once its heartbeat is older than dead-after.
    let at = store.now_ms().await.unwrap();
    wait_for_db_clock_past(store, at + 200).await;
    live_replicas(store, &["b"]).await;
    let taken = store.claim_alerts("b", 60_000, 150, 10).await.unwrap();
    assert_eq!(taken.len(), 2, "a's rows are free once a is dead");
    for (old, new) in held.iter().zip(&taken) {
        assert_eq!(old.id, new.id);
        assert!(new.claim > old.claim);
        assert!(
            !store
                .settle_alert(old.id, old.claim, &AlertOutcome::Delivered)
                .await
                .unwrap(),
            "the dead holder's claim settles nothing"
        );
    }

    // A replica that left is not live either, whatever its last heartbeat.
    store
        .settle_alert(taken[0].id, taken[0].claim, &AlertOutcome::Delivered)
        .await
        .unwrap();
    store.leave("b").await.unwrap();
    live_replicas(store, &["c"]).await;
    let left = store.claim_alerts("c", 60_000, LIVE_MS, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, taken[1].id);
}

async fn audit_entries_are_listed_filtered_paged_and_pruned(db: &Db) {
    let store = &db.store;
    let everything = AuditFilter::default();
    let page = |limit, before| AuditPage { limit, before };
    assert!(
        store
            .list_audit(&everything, &page(10, None))
            .await
            .unwrap()
            .is_empty()
    );
    let before = store.now_ms().await.unwrap();
    let job = |action, actor: Actor, id: &str, name: &str, b, a| NewAudit {
        actor,
        action,
        job_id: Some(id.to_owned()),
        target: name.to_owned(),
        before: b,
        after: a,
    };
    let entries = [
        job(
            AuditAction::JobCreated,
            Actor::Token("ci".into()),
            "j1",
            "backup",
            None,
            Some(serde_json::json!({"schedule": "@every 1m", "name": "backup"})),
        ),
        job(
            AuditAction::JobPaused,
            Actor::System,
            "j1",
            "backup",
            Some(serde_json::json!({"paused": false})),
            Some(serde_json::json!({"paused": true, "paused_reason": "failures"})),
        ),
        NewAudit {
            actor: Actor::Bootstrap,
            action: AuditAction::SettingSet,
            job_id: None,
            target: "backup".into(),
            before: None,
            after: Some(serde_json::json!({"value": "********"})),
        },
        job(
            AuditAction::JobDeleted,
            Actor::Token("ci".into()),
            "j2",
            "report",
            Some(serde_json::json!({"name": "report"})),
            None,
        ),
    ];
    for entry in &entries {
        store.record_audit(entry).await.unwrap();
    }

    let all = store
        .list_audit(&everything, &page(10, None))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.action).collect::<Vec<_>>(),
        [
            AuditAction::JobDeleted,
            AuditAction::SettingSet,
            AuditAction::JobPaused,
            AuditAction::JobCreated,
        ],
        "newest first"
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert!(all.iter().all(|e| e.at_ms >= before), "database clock");
    let paused = &all[2];
    assert_eq!(paused.actor, "system");
    assert_eq!(paused.job_id.as_deref(), Some("j1"));
    assert_eq!(paused.target, "backup");
    assert_eq!(paused.before, Some(serde_json::json!({"paused": false})));
    assert_eq!(
        paused.after,
        Some(serde_json::json!({"paused": true, "paused_reason": "failures"}))
    );
    assert_eq!(all[0].after, None);
    assert_eq!(all[1].job_id, None);

    // A job by id or by its recorded name; a setting of the same name is not a job's entry.
    let of_job = |job: &str| AuditFilter {
        job: Some(job.to_owned()),
        actor: None,
    };
    for key in ["j1", "backup"] {
        let listed = store
            .list_audit(&of_job(key), &page(10, None))
            .await
            .unwrap();
        assert_eq!(
            listed.iter().map(|e| e.action).collect::<Vec<_>>(),
            [AuditAction::JobPaused, AuditAction::JobCreated],
            "{key}"
        );
    }
    let by_ci = AuditFilter {
        job: None,
        actor: Some("ci".into()),
    };
    let listed = store.list_audit(&by_ci, &page(10, None)).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["report", "backup"]
    );
    let both = AuditFilter {
        job: Some("j1".into()),
        actor: Some("ci".into()),
    };
    let listed = store.list_audit(&both, &page(10, None)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].action, AuditAction::JobCreated);

    // Keyset pages: older than the last entry of the previous page.
    let first = store.list_audit(&everything, &page(3, None)).await.unwrap();
    assert_eq!(first.len(), 3);
    let rest = store
        .list_audit(&everything, &page(3, Some(first[2].id)))
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, all[3].id);
    assert!(
        store
            .list_audit(&everything, &page(3, Some(rest[0].id)))
            .await
            .unwrap()
            .is_empty()
    );

    // Pruned by age.
    assert_eq!(store.prune_audit(before).await.unwrap(), 0);
    wait_for_db_clock_past(store, all[0].at_ms).await;
    let now = store.now_ms().await.unwrap();
    assert_eq!(store.prune_audit(now).await.unwrap(), 4);
    assert!(
        store
            .list_audit(&everything, &page(10, None))
            .await
            .unwrap()
            .is_empty()
    );
}
