//! The replicas of a chaos run, each behind a TCP proxy of its own between it and the
//! database: the proxy of a replica id lives for the whole run (a restarted replica gets the
//! same one), and its URL is the replica's `--db`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::db::TestDb;
use crate::host::{Host, HostOptions};
use crate::proxy::Proxy;

/// How long a replica may take to become ready.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// The replicas started so far (running or not) and their proxies.
#[derive(Debug)]
pub(super) struct Replicas {
    /// Every replica process started, in order; a restart adds one.
    pub(super) hosts: Vec<Host>,
    /// The plugins directory of every replica.
    pub(super) plugins: PathBuf,
    binary: PathBuf,
    /// Arguments given to every replica.
    args: Vec<String>,
    proxies: BTreeMap<String, Proxy>,
}

impl Replicas {
    pub(super) fn new(plugins: PathBuf, binary: PathBuf, args: Vec<String>) -> Replicas {
        Replicas {
            hosts: Vec::new(),
            plugins,
            binary,
            args,
            proxies: BTreeMap::new(),
        }
    }

    /// The proxy of replica `id`, started on first use.
    pub(super) async fn proxy(&mut self, db: &TestDb, id: &str) -> anyhow::Result<&Proxy> {
        if !self.proxies.contains_key(id) {
            let proxy = Proxy::start(db.upstream()).await?;
            self.proxies.insert(id.to_string(), proxy);
        }
        Ok(&self.proxies[id])
    }

    /// The proxy of replica `id` (which has been started).
    pub(super) fn proxy_of(&self, id: &str) -> &Proxy {
        &self.proxies[id]
    }

    /// Start replica `id` through its proxy (optionally with its clock shifted by `offset`),
    /// wait until it is ready; its index in [`Replicas::hosts`].
    pub(super) async fn start(
        &mut self,
        db: &TestDb,
        id: &str,
        offset: Option<&str>,
    ) -> anyhow::Result<usize> {
        let url = db.replica_url(self.proxy(db, id).await?.addr());
        let mut options = HostOptions::new(&url, id, &self.plugins);
        options.extra_args = self.args.clone();
        options.binary = Some(self.binary.clone());
        if let Some(offset) = offset {
            options = options.clock_offset(offset);
        }
        let host = Host::start(options).await;
        host.wait_for("ready", READY_DEADLINE, || async {
            host.status_of("/readyz").await == Some(200)
        })
        .await;
        self.hosts.push(host);
        Ok(self.hosts.len() - 1)
    }
}
