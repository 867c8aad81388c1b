//! A server process a test starts (MariaDB, PgBouncer): run in the foreground as a child,
//! stopped when dropped, and watched by a small process that kills it once the test process
//! has exited, however it exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Errors of starting, stopping or talking to a test server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A program the server needs is not installed.
    #[error("{program} not found ({hint})")]
    Missing {
        /// The program looked for.
        program: String,
        /// How to install it.
        hint: &'static str,
    },
    /// A command could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{command} failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it printed.
        output: String,
    },
    /// The server did not answer in time, or exited first.
    #[error("{what}; server log:\n{log}")]
    NotReady {
        /// What happened.
        what: String,
        /// The server's log.
        log: String,
    },
    /// Local I/O (temporary directory, configuration file).
    #[error("test server setup: {0}")]
    Io(#[from] std::io::Error),
}

/// A server process started by a test; killed (SIGKILL) on drop if still running.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Option<Child>,
    watchdog: Option<Child>,
}

impl Daemon {
    /// Starts `command` with its output appended to `log`, and its watchdog.
    pub fn spawn(name: &str, command: Command, log: &Path) -> Result<Daemon, ServerError> {
        Self::spawn_watched(name, command, log, None)
    }

    /// [`Daemon::spawn`] for a server whose files are in `dir`: the watchdog also removes
    /// `dir` once the test process has exited (a server in a `static` is never dropped).
    pub fn spawn_in(
        name: &str,
        command: Command,
        log: &Path,
        dir: &Path,
    ) -> Result<Daemon, ServerError> {
        Self::spawn_watched(name, command, log, Some(dir))
    }

    fn spawn_watched(
        name: &str,
        mut command: Command,
        log: &Path,
        dir: Option<&Path>,
    ) -> Result<Daemon, ServerError> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let line = describe(&command);
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|source| ServerError::Spawn {
                command: line,
                source,
            })?;
        let cleanup = dir
            .map(|dir| format!("; sleep 1; rm -rf '{}'", dir.display()))
            .unwrap_or_default();
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             kill -KILL {child} 2>/dev/null{cleanup}",
            parent = std::process::id(),
            child = child.id(),
        );
        let watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| ServerError::Spawn {
                command: format!("sh (watchdog of {name})"),
                source,
            })?;
        Ok(Daemon {
            name: name.to_string(),
            child: Some(child),
            watchdog: Some(watchdog),
        })
    }

    /// Whether the process still runs (`Some(status)` once it has exited).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// Sends `signal` (e.g. `-TERM`) and waits up to `within` for the exit, then kills.
    pub fn stop(&mut self, signal: &str, within: Duration) -> Result<(), ServerError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if child.try_wait()?.is_some() {
                break;
            }
            if start.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ServerError::NotReady {
                    what: format!("{} did not stop within {within:?} of {signal}", self.name),
                    log: String::new(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop_watchdog();
        Ok(())
    }

    fn stop_watchdog(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stop_watchdog();
    }
}

/// Polls `ready` every 50 ms until it holds, the daemon exits, or `within` passes.
pub fn wait_ready(
    daemon: &mut Daemon,
    within: Duration,
    log: impl Fn() -> String,
    mut ready: impl FnMut() -> bool,
) -> Result<(), ServerError> {
    let start = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(status) = daemon.exited() {
            return Err(ServerError::NotReady {
                what: format!("{} exited ({status}) before answering", daemon.name),
                log: log(),
            });
        }
        if start.elapsed() > within {
            return Err(ServerError::NotReady {
                what: format!("{} did not answer within {within:?}", daemon.name),
                log: log(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A loopback port that was free a moment ago (a server started on it is tried again with
/// another when something took it first).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `text` with everything but unreserved URL characters percent-encoded.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `(uid, gid)` of system user `name`.
pub fn user_ids(name: &str) -> Result<(u32, u32), ServerError> {
    let id = |flag: &str| -> Result<u32, ServerError> {
        let out = run(Command::new("id").args([flag, name]))?;
        out.trim().parse().map_err(|_| ServerError::Failed {
            command: format!("id {flag} {name}"),
            status: ExitStatus::default(),
            output: out,
        })
    };
    Ok((id("-u")?, id("-g")?))
}

/// Hands `path` to system user `owner` (recursively).
pub fn chown(path: &Path, owner: &str) -> Result<(), ServerError> {
    run(Command::new("chown")
        .arg("-R")
        .arg(format!("{owner}:{owner}"))
        .arg(path))
    .map(drop)
}

/// The first of `dirs` (then `$PATH`) holding `program`.
pub fn find_program(
    program: &str,
    dirs: &[&str],
    hint: &'static str,
) -> Result<PathBuf, ServerError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    dirs.iter()
        .map(PathBuf::from)
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| ServerError::Missing {
            program: program.to_string(),
            hint,
        })
}

/// Runs `command` to completion; its output (stdout and stderr) on success.
pub fn run(command: &mut Command) -> Result<String, ServerError> {
    let line = describe(command);
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ServerError::Spawn {
            command: line.clone(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(ServerError::Failed {
            command: line,
            status: out.status,
            output: text,
        })
    }
}

fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{program} {}", args.join(" "))
}
