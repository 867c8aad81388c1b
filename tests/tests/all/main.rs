//! The end-to-end tests: the real `wasmcron` binary, real PostgreSQL and MariaDB servers
//! started by the tests, real plugins. One test binary, one module per area, one set of helpers (the
//! `wasmcron-e2e` library). `cargo test -p wasmcron-e2e --test all -- cluster::` runs one area.
//!
//! The tests share one process and, on the project's machines, two cores: each takes its turn
//! ([`wasmcron_e2e::turns`]), alone when it starts several replicas or measures latencies.

/// One test per engine of each listed test body (`async fn <name>(engine: Engine)`):
/// `mod <name> { async fn postgres(); async fn mariadb() }`, so `-- <area>::<name>` runs both
/// and `-- <name>::mariadb` one.
macro_rules! on_every_engine {
    (#[$attr:meta] $($body:ident),+ $(,)?) => {
        $(
            mod $body {
                #[$attr]
                async fn postgres() {
                    super::$body(wasmcron_e2e::cluster::Engine::Postgres).await
                }

                #[$attr]
                async fn mariadb() {
                    super::$body(wasmcron_e2e::cluster::Engine::MariaDb).await
                }
            }
        )+
    };
}

mod alerts;
mod api;
mod api_limits;
mod api_sse;
mod audit;
mod bad_database;
mod chaos;
mod cli_client;
mod cluster;
mod egress;
mod history;
mod identity;
mod jobs_file;
mod languages;
mod oci;
mod pooler;
mod retries;
mod secrets;
mod settings;
mod single_replica;
mod writes;
