//! The inside a plugin must not reach, on loopback only: a replica whose host names resolve
//! through a hosts file of the test's own, and listeners that count who connects.
//!
//! [`own_hosts_file`] runs the replica in a mount namespace of its own (`unshare --mount`, as
//! root) in which a file of the test is bound over `/etc/hosts`: names the test chooses
//! resolve to loopback addresses for that process only, and no query leaves the machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::built::binary;
use crate::host::HostOptions;

/// Run the replica of `options` with a hosts file of `entries` (`(address, name)`) besides
/// `localhost`. Keep the returned directory until the replica has stopped.
pub fn own_hosts_file(options: &mut HostOptions, entries: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut hosts = String::from("127.0.0.1 localhost\n::1 localhost\n");
    for (address, name) in entries {
        hosts.push_str(&format!("{address} {name}\n"));
    }
    let hosts_path = dir.path().join("hosts");
    std::fs::write(&hosts_path, hosts).unwrap();
    let wrapper = dir.path().join("wasmcron-with-hosts");
    // `unshare` and `sh -c` exec in turn: the replica keeps the process id the test started.
    std::fs::write(
        &wrapper,
        "#!/bin/sh\n\
         exec unshare --mount --propagation private -- sh -c \
         'hosts=$1; bin=$2; shift 2; mount --bind \"$hosts\" /etc/hosts && exec \"$bin\" \"$@\"' \
         sh \"$WASMCRON_HOSTS_FILE\" \"$WASMCRON_REAL_BIN\" \"$@\"\n",
    )
    .unwrap();
    set_executable(&wrapper);
    let real: PathBuf = options.binary.clone().unwrap_or_else(binary);
    options.binary = Some(wrapper);
    options.env.push((
        "WASMCRON_HOSTS_FILE".into(),
        hosts_path.display().to_string(),
    ));
    options
        .env
        .push(("WASMCRON_REAL_BIN".into(), real.display().to_string()));
    dir
}

fn set_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A TCP listener that answers every connection with `HTTP/1.1 204` and counts connections.
#[derive(Debug)]
pub struct CountingListener {
    pub address: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingListener {
    /// Listen on `address` (a loopback address, port 0 for any).
    pub async fn start(address: &str) -> CountingListener {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let _ = stream
                        .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        CountingListener {
            address,
            connections,
            task,
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
