//! Whether the binary under test speaks an engine, asked of the binary itself: `wasmcron
//! migrate` at the URL a replica will use, with the replicas' engine arguments. A binary that
//! does not know the URL scheme or an argument says so, and the answer names what is missing.

use std::path::Path;
use std::time::Duration;

use super::Engine;

/// How long the migration may take.
const DEADLINE: Duration = Duration::from_secs(90);

/// Runs `binary migrate --db url` (plus `engine`'s replica arguments). `Err` is a message for
/// the user: what the binary lacks for `engine`, and what it answered.
pub async fn probe(binary: &Path, engine: Engine, url: &str) -> Result<(), String> {
    let mut command = tokio::process::Command::new(binary);
    command
        .args(["migrate", "--db", url])
        .args(engine.replica_args())
        .env("WASMCRON_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(DEADLINE, command.output()).await {
        Err(_) => {
            return Err(format!(
                "`{} migrate` on {engine} did not finish within {DEADLINE:?}",
                binary.display()
            ));
        }
        Ok(Err(e)) => return Err(format!("cannot run {}: {e}", binary.display())),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(());
    }
    let answer = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(explain(binary, engine, answer.trim()))
}

/// What a failed probe means.
fn explain(binary: &Path, engine: Engine, answer: &str) -> String {
    let binary = binary.display();
    let missing = match engine {
        _ if answer.contains("unsupported database URL") => Some(format!(
            "{binary} does not speak {} URLs: this build has no such database engine",
            if engine == Engine::MariaDb {
                "mysql://"
            } else {
                "these"
            }
        )),
        Engine::PgBouncer if answer.contains("--db-pool-mode") => Some(format!(
            "{binary} has no --db-pool-mode: a replica behind PgBouncer in transaction mode \
             needs `--db-pool-mode transaction` (no named prepared statements, no startup \
             options, no session state)"
        )),
        _ => None,
    };
    match missing {
        Some(missing) => format!("{missing}. It answered: {answer}"),
        None => format!("`{binary} migrate` on {engine} failed: {answer}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_engine_or_flag_is_named() {
        let bin = Path::new("/bin/wasmcron");
        let no_mysql = explain(
            bin,
            Engine::MariaDb,
            "error: unsupported database URL \"mysql://root@127.0.0.1:1/chaos\": expected \
             sqlite://PATH, sqlite::memory:, postgres:// or postgresql://",
        );
        assert!(
            no_mysql.starts_with("/bin/wasmcron does not speak mysql:// URLs"),
            "{no_mysql}"
        );
        let no_flag = explain(
            bin,
            Engine::PgBouncer,
            "error: unexpected argument '--db-pool-mode' found",
        );
        assert!(
            no_flag.starts_with("/bin/wasmcron has no --db-pool-mode"),
            "{no_flag}"
        );
        let other = explain(bin, Engine::Postgres, "error: cannot open database");
        assert_eq!(
            other,
            "`/bin/wasmcron migrate` on postgres failed: error: cannot open database"
        );
    }
}
