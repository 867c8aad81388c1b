//! Test support: plugin components built at test time from WAT (as wasmtime's own tests do),
//! the example plugins built from source by `scripts/build-plugins.sh`, and the tests' turns.

use std::path::PathBuf;

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// The bump allocator and memory every fixture shares.
const PRELUDE: &str = r#"
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
      (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; result<string, string> return area at 64: ok("ok") / err("boom")
  (data (i32.const 32) "ok")
  (data (i32.const 40) "boom")
"#;

/// The `run` export's core signature (the tick record flattened).
const RUN_SIG: &str = "(param i32 i32 i32 i32 i64 i32 i32 i32 i32 i32 i32) (result i32)";

/// A component implementing the `job` world whose `run` body is `body` (WAT instructions that
/// leave a return-area pointer on the stack), with extra module fields `extra`.
pub fn job_component(body: &str, extra: &str) -> Vec<u8> {
    let wat = format!(
        r#"(module
  {PRELUDE}
  {extra}
  (func $ok (result i32)
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.store (i32.const 68) (i32.const 32))
    (i32.store (i32.const 72) (i32.const 2))
    (i32.const 64))
  (func $err (result i32)
    (i32.store8 (i32.const 64) (i32.const 1))
    (i32.store (i32.const 68) (i32.const 40))
    (i32.store (i32.const 72) (i32.const 4))
    (i32.const 64))
  (func (export "run") {RUN_SIG}
    {body})
)"#
    );
    encode(&wat)
}

/// A trivial plugin: returns `ok("ok")`.
pub fn ok_plugin() -> Vec<u8> {
    job_component("(call $ok)", "")
}

/// Returns `err("boom")`.
pub fn err_plugin() -> Vec<u8> {
    job_component("(call $err)", "")
}

/// Loops forever.
pub fn loop_plugin() -> Vec<u8> {
    job_component("(loop $l (br $l)) (unreachable)", "")
}

/// Grows its memory one page at a time until a grow fails, then traps.
pub fn grow_plugin() -> Vec<u8> {
    job_component(
        "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (unreachable)",
        "",
    )
}

/// Traps at instantiation (start function).
pub fn trap_at_start_plugin() -> Vec<u8> {
    job_component("(call $ok)", "(func $boom unreachable) (start $boom)")
}

fn encode(wat: &str) -> Vec<u8> {
    let mut module = wat::parse_str(wat).expect("fixture WAT parses");
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit_dir()).expect("wit/ parses");
    let world = resolve
        .select_world(&[pkg], Some("job"))
        .expect("job world");
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("embed metadata");
    ComponentEncoder::default()
        .module(&module)
        .expect("module accepted")
        .validate(true)
        .encode()
        .expect("component encodes")
}

/// The repository's `wit/` directory.
pub fn wit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

/// Where `scripts/build-plugins.sh` put the example plugins (`WASMCRON_TEST_PLUGINS`, default
/// `dist/plugins`). Tests that need them fail with a clear message when they are missing.
pub fn built_plugin(name: &str) -> PathBuf {
    let dir = std::env::var_os("WASMCRON_TEST_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/plugins"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh first (or set WASMCRON_TEST_PLUGINS)",
        path.display()
    );
    path
}

/// The tests share one process: a test that measures how fast something happens runs
/// [`alone`]; every other test (some start the binary, which compiles plugins) holds a turn
/// [`beside_others`] for its whole body.
static MACHINE: RwLock<()> = RwLock::const_new(());

/// The whole machine, for a test that measures a latency.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().await
}

/// A share of the machine, for an async test that measures no latency.
pub async fn beside_others() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().await
}

/// [`beside_others`] for a test that is not async.
pub fn beside_others_blocking() -> RwLockReadGuard<'static, ()> {
    MACHINE.blocking_read()
}
