//! The one wasmtime [`Engine`] of the process: component model, async, epoch interruption
//! driven by a single ticker thread, copy-on-write memory images, and the pooling allocator when
//! the machine's address space allows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::egress::OwnAddresses;
use super::error::EngineError;

/// How often the epoch advances. Timeouts are enforced to within one tick of this.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The largest linear memory any plugin may have (the pooling allocator reserves slots of this
/// size; a job's `memory_limit` is capped by it).
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Which instance allocator the engine ended up with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocator {
    Pooling,
    OnDemand,
}

impl std::fmt::Display for Allocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Allocator::Pooling => "pooling",
            Allocator::OnDemand => "on-demand",
        })
    }
}

/// Engine options.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Prefer the pooling allocator (falls back to on-demand if it cannot be set up).
    pub pooling: bool,
    /// How many plugin instances may be alive at once (pool size).
    pub max_instances: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            pooling: true,
            max_instances: 1000,
        }
    }
}

/// The engine plus the ticker that drives epoch interruption. Dropping the last clone stops the
/// ticker.
#[derive(Clone)]
pub struct PluginEngine {
    engine: Engine,
    allocator: Allocator,
    _ticker: Arc<EpochTicker>,
    /// The replica's own API addresses, which no run reaches through a wildcard or host name.
    own: Arc<OwnAddresses>,
}

impl std::fmt::Debug for PluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginEngine")
            .field("allocator", &self.allocator)
            .finish()
    }
}

impl PluginEngine {
    /// Build the engine. With `options.pooling`, the pooling allocator is probed and the engine
    /// falls back to on-demand allocation (with a log line) when the address space is too small.
    pub fn new(options: &EngineOptions) -> Result<Self, EngineError> {
        let (engine, allocator) = if options.pooling {
            match Engine::new(&base_config(Some(pooling_config(options.max_instances)))) {
                Ok(engine) => match probe_pooling(&engine) {
                    Ok(()) => (engine, Allocator::Pooling),
                    Err(e) => {
                        tracing::warn!(error = %e, "pooling allocator unavailable, using on-demand allocation");
                        (build(None)?, Allocator::OnDemand)
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "pooling allocator unavailable, using on-demand allocation");
                    (build(None)?, Allocator::OnDemand)
                }
            }
        } else {
            (build(None)?, Allocator::OnDemand)
        };
        let ticker = EpochTicker::start(engine.clone());
        Ok(PluginEngine {
            engine,
            allocator,
            _ticker: Arc::new(ticker),
            own: Arc::default(),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn allocator(&self) -> Allocator {
        self.allocator
    }

    /// The replica's own API addresses, shared by every run's egress guard: empty until the
    /// replica records them ([`OwnAddresses::set`]) after binding its listener.
    pub fn own_addresses(&self) -> &Arc<OwnAddresses> {
        &self.own
    }

    /// Number of epoch ticks that make up `timeout` (at least one).
    pub fn ticks_for(timeout: Duration) -> u64 {
        (timeout.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64 + 1
    }

    /// A string that changes whenever compiled artifacts of this engine become incompatible
    /// (wasmtime version, target, settings): part of the compiled-cache key.
    pub fn compatibility_key(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{:016x}", h.finish())
    }
}

fn build(pooling: Option<PoolingAllocationConfig>) -> Result<Engine, EngineError> {
    Engine::new(&base_config(pooling)).map_err(|e| EngineError(format!("{e:#}")))
}

fn base_config(pooling: Option<PoolingAllocationConfig>) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    config.async_stack_zeroing(false);
    config.max_wasm_stack(1 << 20);
    config.async_stack_size(2 << 20);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // Bounds and stack checks compiled into the code instead of guard pages and signal
    // handlers: a pooled memory's slot then keeps its pages accessible between runs, where
    // guard pages cost two `mprotect`s a run (each a TLB shootdown on every core), about a
    // fifth of the replica's CPU at thousands of runs a second (BENCHMARKS.md). Out-of-bounds
    // accesses still trap; the code runs slightly slower.
    config.signals_based_traps(false);
    config.memory_guard_size(0);
    if let Some(pooling) = pooling {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    config
}

fn pooling_config(max_instances: u32) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    // A component built by the Rust wasm32-wasip2 toolchain holds a handful of core instances
    // (the program and its adapter shims) with one or two memories and tables.
    pool.total_component_instances(max_instances);
    pool.total_core_instances(max_instances * 4);
    pool.total_memories(max_instances * 2);
    pool.total_tables(max_instances * 2);
    pool.total_stacks(max_instances);
    pool.max_core_instances_per_component(16);
    pool.max_memories_per_component(4);
    pool.max_tables_per_component(4);
    pool.max_memory_size(MAX_MEMORY_BYTES as usize);
    // Reset what a run dirtied with memset instead of madvise, far cheaper per run: up to
    // 256 KiB of a memory's pages, found by the kernel's PAGEMAP_SCAN where it has it (Linux
    // 6.7+; elsewhere the lowest 256 KiB), so the pages stay resident for the next run and
    // no TLB shootdown is paid for them.
    pool.linear_memory_keep_resident(256 << 10);
    pool.pagemap_scan(wasmtime::Enabled::Auto);
    pool.table_keep_resident(16 << 10);
    pool.async_stack_keep_resident(64 << 10);
    // What must still be returned to the kernel is returned in batches (one flush each).
    pool.decommit_batch_size(16);
    pool.max_unused_warm_slots(max_instances.min(100));
    pool
}

/// Instantiate a tiny component once so that a pool whose reservation fails is detected at start
/// and not at the first run.
fn probe_pooling(engine: &Engine) -> wasmtime::Result<()> {
    let component = wasmtime::component::Component::new(
        engine,
        "(component (core module (memory 1)) (core instance (instantiate 0)))",
    )?;
    let linker = wasmtime::component::Linker::<()>::new(engine);
    let mut store = wasmtime::Store::new(engine, ());
    store.set_epoch_deadline(u64::MAX / 2);
    // The probe component has no imports and no start function: synchronous-looking async call.
    futures::executor::block_on(linker.instantiate_async(&mut store, &component))?;
    Ok(())
}

/// One thread that advances the engine epoch every [`EPOCH_TICK`].
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("wasmcron-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn epoch ticker thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
