//! Durations (`15s`, `1h30m`) and memory sizes (`64MiB`, a number of bytes): any text is
//! read or refused, and what is read prints back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmcron::schedule::{format_duration, parse_duration};
use wasmcron::settings::parse_bytes;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(text) {
        let shown = format_duration(d);
        assert_eq!(
            parse_duration(&shown).ok(),
            Some(d),
            "{text:?} -> {shown:?}"
        );
    }
    let _ = parse_bytes(&Value::String(text.to_string()));
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let _ = parse_bytes(&value);
    }
});
