//! Each engine's servers start, answer through a proxy at the replicas' URL and directly at
//! the run's, and answer again after a stop and a resumption.

use sqlx::{Connection, Row};

use super::*;
use crate::proxy::Proxy;

/// `SELECT 1` over one connection to `url` (simple protocol: fine through a transaction
/// pooler).
async fn select_one(url: &str) -> Result<i32, sqlx::Error> {
    if url.starts_with("mysql://") {
        let mut conn = sqlx::MySqlConnection::connect(url).await?;
        let row = sqlx::raw_sql("SELECT 1").fetch_one(&mut conn).await?;
        row.try_get::<i32, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v as i32))
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let row = sqlx::raw_sql("SELECT 1").fetch_one(&mut conn).await?;
        row.try_get::<i32, _>(0)
    }
}

async fn answers_through_a_proxy_and_directly_and_after_a_restart(engine: Engine) {
    let mut db = TestDb::start(engine, "wired").unwrap();
    assert_eq!(db.engine(), engine);
    let proxy = Proxy::start(db.upstream()).await.unwrap();
    let url = db.replica_url(proxy.addr());
    assert_eq!(select_one(&url).await.unwrap(), 1, "{engine} through {url}");
    let direct = Pool::connect(&db.direct_url()).await.unwrap();
    direct.now_ms().await.unwrap();

    db.stop().unwrap();
    assert!(
        select_one(&url).await.is_err(),
        "{engine} answers while stopped"
    );
    db.resume().unwrap();
    // A pooler may refuse logins for a moment after its server came back (PgBouncer's
    // `server_login_retry`): the first answer within a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        match select_one(&url).await {
            Ok(answer) => break answer,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("{engine} after the restart: {e}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    assert_eq!(answer, 1, "{engine} after the restart");
    direct.now_ms().await.unwrap();
    assert!(!db.logs().is_empty());
}

#[tokio::test]
async fn postgres_answers_through_a_proxy_and_directly_and_after_a_restart() {
    answers_through_a_proxy_and_directly_and_after_a_restart(Engine::Postgres).await;
}

#[tokio::test]
async fn mariadb_answers_through_a_proxy_and_directly_and_after_a_restart() {
    answers_through_a_proxy_and_directly_and_after_a_restart(Engine::MariaDb).await;
}

#[tokio::test]
async fn pgbouncer_answers_through_a_proxy_and_directly_and_after_a_restart() {
    answers_through_a_proxy_and_directly_and_after_a_restart(Engine::PgBouncer).await;
}

#[test]
fn engines_parse_by_name() {
    for (name, engine) in Engine::ALL {
        assert_eq!(name.parse::<Engine>().unwrap(), engine);
        assert_eq!(engine.to_string(), name);
    }
    assert_eq!(
        "mysql".parse::<Engine>().unwrap_err(),
        "unknown database \"mysql\" (known: postgres, mariadb, pgbouncer)"
    );
    assert_eq!(
        Engine::PgBouncer.replica_args(),
        ["--db-pool-mode", "transaction"]
    );
}
