//! Executing one tick: a fresh `Store` from the plugin's cached `InstancePre`, bounded in time
//! and memory, with nothing granted but what the job allows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap};

use super::bindings::Tick;
use super::egress::HostPattern;
use super::engine::{EPOCH_TICK, PluginEngine};
use super::http_policy::HttpPolicy;
use super::job_host::JobHost;
use super::plugin::LoadedPlugin;
use super::run_log::{LogLimits, RunLog};
use super::run_state::{MEMORY_LIMIT_EXCEEDED, RunState};
use super::secrets::{Redactor, SecretError};

/// Longest result or error text kept from a plugin.
pub const MAX_RESULT_BYTES: usize = 4 << 10;

/// Everything a run needs besides the plugin.
pub struct RunRequest {
    pub tick: Tick,
    pub timeout: Duration,
    pub memory_limit: u64,
    pub allowed_hosts: Vec<HostPattern>,
    pub job: Arc<dyn JobHost>,
    pub log_limits: LogLimits,
    /// The secret values to keep out of the outcome; `job` adds those it reads.
    pub redactor: Redactor,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    Failed,
    TimedOut,
}

/// The outcome of a run, ready to be recorded.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub result: Option<String>,
    pub error: Option<String>,
    pub logs: String,
    pub duration: Duration,
}

impl RunOutcome {
    /// A run that could not start (e.g. its plugin failed to load).
    pub fn failed(error: impl Into<String>) -> Self {
        RunOutcome {
            status: RunStatus::Failed,
            result: None,
            error: Some(error.into()),
            logs: String::new(),
            duration: Duration::ZERO,
        }
    }
}

fn bounded(mut text: String) -> String {
    if text.len() > MAX_RESULT_BYTES {
        let mut cut = MAX_RESULT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("… [truncated]");
    }
    text
}

impl LoadedPlugin {
    /// Run one tick. Never panics and never returns an error: every failure of the plugin is a
    /// failed (or timed-out) outcome.
    pub async fn run(&self, engine: &PluginEngine, request: RunRequest) -> RunOutcome {
        let started = Instant::now();
        let redactor = &request.redactor;
        let log = RunLog::new(request.log_limits).with_redactor(redactor.clone());
        let http = HttpPolicy::new(
            request.allowed_hosts,
            engine.own_addresses().clone(),
            log.clone(),
        );
        let job_name: Arc<str> = request.tick.job_name.as_str().into();
        let state = RunState::new(
            log.clone(),
            http,
            request.memory_limit,
            request.job,
            job_name,
            request.redactor.clone(),
        );
        let mut store = Store::new(engine.engine(), state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(PluginEngine::ticks_for(request.timeout));
        store.epoch_deadline_trap();

        // Epoch interruption stops guest code; the outer timeout also bounds time spent
        // waiting in async host calls (HTTP, state).
        let outer = request.timeout + 2 * EPOCH_TICK;
        let call = async {
            let job = self.pre.instantiate_async(&mut store).await?;
            job.call_run(&mut store, &request.tick).await
        };
        let result = tokio::time::timeout(outer, call).await;
        let memory_exceeded = store.data().limiter.exceeded;
        drop(store);
        let duration = started.elapsed();
        let (status, result, error) = match result {
            Err(_elapsed) => (
                RunStatus::TimedOut,
                None,
                Some(timeout_message(request.timeout)),
            ),
            // Redacted before bounded, so that no part of a value survives a cut.
            Ok(Ok(Ok(text))) => (
                RunStatus::Succeeded,
                Some(bounded(redactor.redact(&text))),
                None,
            ),
            Ok(Ok(Err(text))) => (
                RunStatus::Failed,
                None,
                Some(bounded(redactor.redact(&text))),
            ),
            Ok(Err(trap)) => {
                if trap.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                    (
                        RunStatus::TimedOut,
                        None,
                        Some(timeout_message(request.timeout)),
                    )
                } else if memory_exceeded {
                    (
                        RunStatus::Failed,
                        None,
                        Some(format!(
                            "{MEMORY_LIMIT_EXCEEDED}: the plugin needed more than {} bytes",
                            request.memory_limit
                        )),
                    )
                } else if let Some(failure) = trap.downcast_ref::<SecretError>() {
                    // A secret the plugin asked for cannot be read: the error names it.
                    (RunStatus::Failed, None, Some(bounded(failure.to_string())))
                } else {
                    (
                        RunStatus::Failed,
                        None,
                        Some(bounded(
                            redactor.redact(&format!("plugin trapped: {trap:#}")),
                        )),
                    )
                }
            }
        };
        // Secret values never leave the run: not in its result, error (redacted above) or
        // log (redacted line by line as each line completes; again whole here, which costs
        // little and covers a line the log's bound cut into pieces).
        RunOutcome {
            status,
            result,
            error,
            logs: redactor.redact(&log.text()),
            duration,
        }
    }
}

fn timeout_message(timeout: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(timeout))
}
