//! The chaos run's settings (from the command line) and its fixed parameters.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use super::deck::Fault;
use super::history::Retry;
use crate::db::Engine;

/// Heartbeat and dead threshold of every replica (short, so that a run sees many faults).
pub(super) const HEARTBEAT: &str = "1s";
pub(super) const DEAD_AFTER_S: u64 = 5;
/// Delay of each byte in each direction during a latency fault.
pub(super) const LATENCY: Duration = Duration::from_millis(250);
/// How long a latency fault lasts, in seconds (low..high).
pub(super) const LATENCY_FOR_S: (f64, f64) = (5.0, 15.0);
/// Grace period of a graceful stop.
pub(super) const GRACE: &str = "10s";
/// How long after the last fault the cluster may take to settle (all jobs on live replicas,
/// balanced within one).
pub(super) const SETTLE: Duration = Duration::from_secs(90);
/// Ticks this close to the end of the run are in flight and not yet judged.
pub(super) const END_MARGIN_MS: i64 = 5_000;
/// A slow job works this long per run (longer than its one-second period).
pub(super) const SLOW_MS: u64 = 1_500;
/// The retry policy of the jobs that retry (see `faults::retry_of`): attempts in all, the
/// delay before the second (each further one doubles it), the longest delay.
pub(super) const RETRY_ATTEMPTS: i64 = 3;
pub(super) const RETRY_BACKOFF: &str = "1s";
pub(super) const RETRY_MAX_BACKOFF: &str = "5m";
/// RSS: ignore the first seconds of a process; judge processes that lived this long.
pub(super) const RSS_WARMUP_S: f64 = 20.0;
pub(super) const RSS_MIN_LIFE_S: f64 = 60.0;

/// What a chaos run does: its seed, how long faults come, on how many replicas and jobs, on
/// which database, which faults.
#[derive(Debug)]
pub struct Settings {
    pub seed: u64,
    /// The database the replicas use.
    pub db: Engine,
    /// The kinds of fault dealt, in rounds.
    pub faults: Vec<Fault>,
    /// Kinds dealt once before the rounds.
    pub first: Vec<Fault>,
    pub duration: Duration,
    pub replicas: usize,
    pub jobs: usize,
    pub min_gap: Duration,
    pub max_gap: Duration,
    pub out: Option<PathBuf>,
    /// Whether about one job in five retries (`--no-retries`: none does).
    pub retries: bool,
}

fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(s).with_context(|| format!("{s:?} is not a duration such as 90s"))
}

impl Settings {
    /// The settings from the command line (see the `chaos` binary).
    pub fn from_args() -> anyhow::Result<Settings> {
        let mut s = Settings {
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos() as u64
                % 1_000_000_000,
            db: Engine::Postgres,
            faults: Fault::all(),
            first: Vec::new(),
            duration: Duration::from_secs(120),
            replicas: 3,
            jobs: 60,
            min_gap: Duration::from_secs(2),
            max_gap: Duration::from_secs(8),
            out: None,
            retries: true,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--no-retries" {
                s.retries = false;
                continue;
            }
            let value = args
                .next()
                .with_context(|| format!("{arg} needs a value"))?;
            let what = || format!("{arg} {value}");
            match arg.as_str() {
                "--seed" => s.seed = value.parse().with_context(what)?,
                "--db" => s.db = value.parse().map_err(anyhow::Error::msg)?,
                "--faults" => s.faults = Fault::parse_list(&value).map_err(anyhow::Error::msg)?,
                "--first" => s.first = Fault::parse_list(&value).map_err(anyhow::Error::msg)?,
                "--duration" => s.duration = parse_duration(&value)?,
                "--replicas" => s.replicas = value.parse().with_context(what)?,
                "--jobs" => s.jobs = value.parse().with_context(what)?,
                "--min-gap" => s.min_gap = parse_duration(&value)?,
                "--max-gap" => s.max_gap = parse_duration(&value)?,
                "--out" => s.out = Some(PathBuf::from(value)),
                other => bail!(
                    "unknown argument {other} (known: --seed --db --duration --replicas --jobs \
                     --min-gap --max-gap --faults --first --out --no-retries)"
                ),
            }
        }
        if s.replicas < 2 {
            bail!("--replicas {} must be at least 2", s.replicas);
        }
        if s.jobs < 10 {
            bail!("--jobs {} must be at least 10 (one of each kind)", s.jobs);
        }
        if s.max_gap < s.min_gap {
            bail!("--max-gap must not be below --min-gap");
        }
        Ok(s)
    }

    /// The retry policy of job number `n`, if it retries (see `faults::retry_of`).
    pub fn retry_of(&self, n: usize) -> Option<Retry> {
        self.retries
            .then(|| super::faults::retry_of(self.seed, n))
            .flatten()
    }
}
