//! One live process per instance id. Two processes with one id would each believe they own
//! the same jobs, and the second would release the first's jobs as "left behind by a previous
//! run" at its start; so a start with an id that a live replica holds is refused, before
//! anything is written:
//!
//! - on an engine with server sessions (PostgreSQL, directly or through `--db-session-url`),
//!   the replica's session lock is taken here and kept for the life of the process; a live
//!   replica holds it, a crashed one's went with its session, so a restart after a crash is
//!   not refused;
//! - on an embedded SQLite file, a lock file beside the database, held for the life of the
//!   process (the kernel releases it when the process dies);
//! - without either (a transaction pooler without a session URL), the heartbeat: an id whose
//!   heartbeat is fresher than `--dead-after` is refused, so a restart right after a crash
//!   waits until the dead threshold has passed.

use std::path::PathBuf;

use anyhow::bail;

use super::ReplicaOptions;
use crate::store::Store;
use crate::store::session::Session;

/// What holds the instance id for this process.
#[derive(Debug)]
pub(super) struct Identity {
    /// The replica's database session, holding its lock; handed to membership.
    pub session: Option<Session>,
    /// The lock file beside an embedded database.
    pub file: Option<std::fs::File>,
}

/// Takes the instance id for this process, or says which live replica holds it.
pub(super) async fn claim(store: &Store, options: &ReplicaOptions) -> anyhow::Result<Identity> {
    let id = &options.instance_id;
    let advice = "give this replica another id (--instance-id, WASMCRON_INSTANCE_ID or POD_NAME), \
                  or stop the other one first";
    if let Some(file) = Store::local_file(&options.db_url) {
        let path = lock_path(&file, id);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                anyhow::anyhow!("cannot open the instance lock {}: {e}", path.display())
            })?;
        if lock.try_lock().is_err() {
            bail!(
                "instance id {id:?} is in use by a live replica on this database (it holds {}); {advice}",
                path.display()
            );
        }
        return Ok(Identity {
            session: None,
            file: Some(lock),
        });
    }
    match store.open_session(id).await? {
        Some(session) if session.locked() => Ok(Identity {
            session: Some(session),
            file: None,
        }),
        Some(session) => {
            session.close().await;
            bail!(
                "instance id {id:?} is in use by a live replica: its database session holds the \
                 instance lock; {advice}"
            )
        }
        None => {
            let dead_after = options.dead_after;
            let live = store.live_instances(dead_after.as_millis() as i64).await?;
            if live.iter().any(|i| &i.id == id) {
                bail!(
                    "instance id {id:?} is in use by a live replica: its heartbeat is fresher \
                     than --dead-after ({}); {advice} (a replica that crashed counts as live \
                     until then: without --db-session-url there is no session to tell)",
                    humantime::format_duration(dead_after)
                );
            }
            Ok(Identity {
                session: None,
                file: None,
            })
        }
    }
}

/// The lock file of instance `id` beside the database file `db`.
fn lock_path(db: &std::path::Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".instance-{safe}.lock"));
    db.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path(std::path::Path::new("/var/lib/wasmcron/w.db"), "pod/0 a"),
            PathBuf::from("/var/lib/wasmcron/w.db.instance-pod_0_a.lock")
        );
    }
}
