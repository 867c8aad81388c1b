//! Cluster settings as `PUT /api/v1/settings/{key}` takes them: any key with any JSON value is
//! accepted or refused with a reason, an accepted value is applied, every effective setting is
//! shown as a value the same key accepts again, and settings read back from stored rows never
//! panic.
//!
//! Input: the key, a newline, then the value as JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmcron::settings::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((key, value)) = text.split_once('\n') else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(value) else {
        return;
    };
    match Settings::validate(key, &value) {
        Ok(()) => {
            let mut settings = Settings::default();
            settings
                .apply(key, &value)
                .expect("a valid setting applies");
            // What is shown among the effective settings is accepted again as it is shown.
            let shown = settings.effective();
            // Secrets are shown as what stands for them, not as settings.
            let stand_ins = ["metrics.token_set", "alerts.webhooks_count"];
            for (key, value) in shown.as_object().expect("effective settings are an object") {
                if !stand_ins.contains(&key.as_str()) {
                    let again = Settings::validate(key, value);
                    assert!(again.is_ok(), "{key} shown as {value}: {again:?}");
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    let _ = Settings::from_rows(&[(key.to_string(), value)]);
});
