//! The data of one run's [`wasmtime::Store`]: a WASI context that grants nothing, the HTTP
//! policy, the memory limiter, the run log and the job's host services.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::wasmcron::plugin::host::{Host, Level};
use super::bindings::wasmcron::plugin::types;
use super::http_policy::HttpPolicy;
use super::job_host::{JobHost, MAX_KEY_BYTES, MAX_STATE_VALUE_BYTES};
use super::output_capture::CapturedOutput;
use super::run_log::RunLog;
use super::secrets::Redactor;

/// The message a run fails with when it needs more memory than its limit.
pub const MEMORY_LIMIT_EXCEEDED: &str = "memory limit exceeded";

/// Store data of one run.
pub struct RunState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_policy: HttpPolicy,
    table: ResourceTable,
    pub(super) limiter: MemoryLimiter,
    pub(super) log: RunLog,
    job: Arc<dyn JobHost>,
    job_name: Arc<str>,
    redactor: Redactor,
}

impl RunState {
    pub fn new(
        log: RunLog,
        http_policy: HttpPolicy,
        memory_limit: u64,
        job: Arc<dyn JobHost>,
        job_name: Arc<str>,
        redactor: Redactor,
    ) -> Self {
        // Nothing granted: no preopened directories, no env, no args, no sockets; stdin is
        // closed; stdout and stderr go to the run log. Clocks and random are allowed.
        let wasi = WasiCtx::builder()
            .stdout(CapturedOutput::new(log.clone(), "stdout"))
            .stderr(CapturedOutput::new(log.clone(), "stderr"))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        RunState {
            wasi,
            http: WasiHttpCtx::new(),
            http_policy,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            log,
            job,
            job_name,
            redactor,
        }
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RunState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_policy,
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

fn check_key(key: &str) -> wasmtime::Result<()> {
    if key.len() > MAX_KEY_BYTES {
        wasmtime::bail!(
            "key of {} bytes is longer than the limit of {MAX_KEY_BYTES}",
            key.len()
        );
    }
    Ok(())
}

impl types::Host for RunState {}

impl Host for RunState {
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let name = level_name(level);
        if self.log.line(name, &message) {
            // The run's log redacts the line it keeps; the replica's log gets it redacted too.
            let message = self.redactor.redact(&message);
            let job = &*self.job_name;
            match level {
                Level::Trace => tracing::trace!(target: "wasmcron::plugin", job, "{message}"),
                Level::Debug => tracing::debug!(target: "wasmcron::plugin", job, "{message}"),
                Level::Info => tracing::info!(target: "wasmcron::plugin", job, "{message}"),
                Level::Warn => tracing::warn!(target: "wasmcron::plugin", job, "{message}"),
                Level::Error => tracing::error!(target: "wasmcron::plugin", job, "{message}"),
            }
        }
        Ok(())
    }

    async fn config_get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        check_key(&key)?;
        Ok(self.job.config_get(&key)?)
    }

    async fn state_get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        check_key(&key)?;
        Ok(self.job.state_get(&key).await?)
    }

    async fn state_set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), String>> {
        check_key(&key)?;
        if value.len() > MAX_STATE_VALUE_BYTES {
            return Ok(Err(format!(
                "state value of {} bytes is larger than the limit of {MAX_STATE_VALUE_BYTES}",
                value.len()
            )));
        }
        Ok(self.job.state_set(&key, value).await?)
    }
}

/// Bounds the linear memory of a run and remembers whether the bound was hit, so the run's
/// error can say `memory limit exceeded` however the plugin reacted to the failed grow.
pub struct MemoryLimiter {
    limit: u64,
    pub(super) exceeded: bool,
}

impl MemoryLimiter {
    fn new(limit: u64) -> Self {
        MemoryLimiter {
            limit,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.exceeded = true;
            // Trap at once rather than let the guest observe a failed grow: the run fails with a
            // clear reason instead of a guest-specific abort.
            wasmtime::bail!("{MEMORY_LIMIT_EXCEEDED} (limit {} bytes)", self.limit);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
