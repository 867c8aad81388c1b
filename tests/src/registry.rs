//! A throwaway OCI registry on loopback: Debian's `docker-registry` (Docker's distribution),
//! plain HTTP, storage in a temporary directory, optionally requiring credentials (htpasswd).
//! scripts/install-test-deps.sh installs both programs.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::wait::poll_until;

/// How long the registry may take to answer `/v2/`.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A running registry, stopped (SIGKILL) on drop.
#[derive(Debug)]
pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:PORT`, as references and `--insecure-registry` name it.
    pub address: String,
    dir: TempDir,
    credentials: Option<(String, String)>,
}

impl Registry {
    /// A registry that anyone may push to and pull from.
    pub async fn start() -> Registry {
        Self::start_with(None).await
    }

    /// A registry that requires `user` and `password` for everything.
    pub async fn start_with_credentials(user: &str, password: &str) -> Registry {
        Self::start_with(Some((user.to_string(), password.to_string()))).await
    }

    async fn start_with(credentials: Option<(String, String)>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let auth = match &credentials {
            Some((user, password)) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .expect("htpasswd (apache2-utils; scripts/install-test-deps.sh installs it)");
                assert!(out.status.success(), "htpasswd failed: {out:?}");
                std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
                format!(
                    "auth: {{htpasswd: {{realm: test, path: {}}}}}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            None => String::new(),
        };
        // A port picked by binding port 0 and released: the registry cannot bind port 0 and
        // report it. A start that loses the port to another process is retried.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let address = format!("127.0.0.1:{port}");
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: {address}}}\n{auth}",
                    dir.path().join("data").display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path().join("log")).unwrap();
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("docker-registry (scripts/install-test-deps.sh installs it)");
            let mut child = child;
            if answers(&mut child, &address, &dir).await {
                return Registry {
                    child: Some(child),
                    address,
                    dir,
                    credentials,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the registry did not start on any of 5 ports");
    }

    /// `ADDRESS/REPOSITORY:TAG`.
    pub fn reference(&self, repository_and_tag: &str) -> String {
        format!("{}/{repository_and_tag}", self.address)
    }

    /// A docker `config.json` with this registry's credentials (or `password` instead).
    pub fn auth_file(&self, password: Option<&str>) -> PathBuf {
        let (user, real) = self
            .credentials
            .clone()
            .expect("a registry with credentials");
        let path = self.dir.path().join(format!(
            "config-{}.json",
            password.map_or("good", |_| "other")
        ));
        let body = serde_json::json!({"auths": {&self.address: {
            "username": user, "password": password.unwrap_or(&real)}}});
        std::fs::write(&path, body.to_string()).unwrap();
        path
    }

    /// Replaces the stored content of blob `digest` (`sha256:…`) with `bytes`, as a corrupted
    /// disk or a tampering mirror would; the registry serves it without checking.
    pub fn corrupt_blob(&self, digest: &str, bytes: &[u8]) {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        let path = self
            .dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data");
        assert!(path.is_file(), "no blob at {}", path.display());
        std::fs::write(path, bytes).unwrap();
    }

    /// Everything the registry logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the registry (SIGKILL), as an outage would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until `/v2/` no longer answers.
    pub async fn wait_down(&self) {
        let url = format!("http://{}/v2/", self.address);
        poll_until(
            "registry down",
            Duration::from_secs(10),
            Duration::from_millis(50),
            || async { reqwest::get(&url).await.is_err() },
            || self.log(),
        )
        .await;
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until the registry at `address` answers `/v2/`; false when it exited first (its port
/// was taken).
async fn answers(child: &mut Child, address: &str, dir: &TempDir) -> bool {
    let url = format!("http://{address}/v2/");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while started.elapsed() < START_DEADLINE {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(response) = client.get(&url).send().await {
            // 200 anonymously, 401 when credentials are required.
            if matches!(response.status().as_u16(), 200 | 401) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    panic!("the registry did not answer within {START_DEADLINE:?}; log:\n{log}");
}
