//! What the tests run: the `wasmcron` binary under test and the built plugins.
//!
//! The binary is `$WASMCRON_BIN`, else `target/debug/wasmcron` of this workspace
//! (`cargo test --workspace` builds it first). Plugins come from `$WASMCRON_TEST_PLUGINS`, else
//! `dist/plugins` (built by `scripts/build-plugins.sh`).

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The wasmcron binary under test.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("WASMCRON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/debug/wasmcron"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test --workspace` (it builds the binary first) or `cargo build -p wasmcron`, or set WASMCRON_BIN",
        path.display()
    );
    path
}

/// Directory of the built example and test plugins.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("WASMCRON_TEST_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("dist/plugins"));
    assert!(
        dir.join("hello.wasm").is_file(),
        "{} has no plugins: run scripts/build-plugins.sh first (or set WASMCRON_TEST_PLUGINS)",
        dir.display()
    );
    dir
}

/// The bytes of built plugin `name` (`hello`, `reporter`, `misbehave`, ...).
pub fn plugin(name: &str) -> Vec<u8> {
    let path = plugins_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `component` with a custom section holding `marker` appended: the same behaviour, another
/// digest (a new version of a plugin, as a deployment would bring).
pub fn with_marker(component: &[u8], marker: &str) -> Vec<u8> {
    let name = b"wasmcron-test";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(marker.as_bytes());
    let mut out = component.to_vec();
    out.push(0); // custom section id
    let mut size = payload.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(&payload);
    out
}
