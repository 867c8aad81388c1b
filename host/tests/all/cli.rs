//! The `wasmcron` binary's offline commands: `plugin check` and `schedule next`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support;

fn wasmcron(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmcron"))
        .args(args)
        .output()
        .expect("run wasmcron")
}

fn check(path: &Path) -> Output {
    wasmcron(&["plugin", "check", path.to_str().unwrap()])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn plugin_check_accepts_the_example_plugins_and_lists_imports_and_exports() {
    let _turn = support::beside_others_blocking();
    for name in ["hello", "uptime"] {
        let out = check(&support::built_plugin(name));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(text.starts_with("ok: "), "{text}");
        assert!(
            text.contains("implements wasmcron:plugin/job@0.1.0"),
            "{text}"
        );
        assert!(text.contains("wasmcron:plugin/host@0.1.0"), "{text}");
        assert!(text.contains("exports:\n  run"), "{text}");
    }
    let out = check(&support::built_plugin("uptime"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("wasi:http/outgoing-handler"));
}

fn rejects(bytes: &[u8], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wasm");
    std::fs::write(&path, bytes).unwrap();
    let out = check(&path);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with(&format!("error: {}: ", path.display())),
        "{err}"
    );
    assert!(err.contains(expected), "{err}");
}

#[test]
fn plugin_check_rejects_a_non_wasm_file() {
    let _turn = support::beside_others_blocking();
    rejects(b"#!/bin/sh\necho hi\n", "not a WebAssembly file");
}

#[test]
fn plugin_check_rejects_a_core_module() {
    let _turn = support::beside_others_blocking();
    rejects(
        &wat::parse_str("(module (func (export \"run\")))").unwrap(),
        "a core WebAssembly module, not a component",
    );
}

#[test]
fn plugin_check_rejects_a_component_of_another_world() {
    let _turn = support::beside_others_blocking();
    let other = wat::parse_str(
        r#"(component
             (core module $m (func (export "f")))
             (core instance $i (instantiate $m))
             (func (export "hello") (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    rejects(&other, "does not implement the wasmcron:plugin/job world");
}

#[test]
fn plugin_check_rejects_a_missing_file() {
    let _turn = support::beside_others_blocking();
    let out = wasmcron(&["plugin", "check", "/nonexistent/x.wasm"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot read plugin file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn schedule_next_prints_instants_in_the_zone() {
    let _turn = support::beside_others_blocking();
    let out = wasmcron(&[
        "schedule",
        "next",
        "30 2 * * *",
        "--tz",
        "Europe/Berlin",
        "--count",
        "2",
        "--from",
        "2026-03-28T12:00:00Z",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    // 02:30 does not exist on 2026-03-29 in Berlin: it fires at 03:00 CEST = 01:00 UTC.
    assert!(lines[0].starts_with("2026-03-29T01:00:00.000Z"), "{text}");
    assert!(lines[1].starts_with("2026-03-30T00:30:00.000Z"), "{text}");
}

#[test]
fn schedule_next_rejects_bad_input_with_a_precise_message() {
    let _turn = support::beside_others_blocking();
    let out = wasmcron(&["schedule", "next", "*/0 * * * *"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("step must be at least 1"),
        "{}",
        stderr(&out)
    );
    let out = wasmcron(&["schedule", "next", "@daily", "--tz", "Mars/Olympus"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
}
