//! The `alerts.webhooks` setting and what is sent from a stored alert body: any JSON value is
//! accepted or refused with a reason naming the setting; an accepted list has only http(s) URLs
//! with a host and at least one event per webhook, and its debug form never shows a URL's path,
//! query or credentials; any stored body (even one that is not JSON) renders in both formats
//! without panicking, and the Slack form is one line.
//!
//! Input: the value as JSON, or anything (read as a stored body) when it is not JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmcron::alerts::body::payload;
use wasmcron::settings::{Format, parse_webhooks};

const KEY: &str = "alerts.webhooks";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Json, Format::Slack] {
        let sent = payload(text, 1_764_000_000_000, format);
        if format == Format::Slack {
            let line = sent["text"].as_str().expect("a slack body has text");
            assert!(!line.contains('\n'), "a slack line broke: {line:?}");
        }
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    match parse_webhooks(KEY, &value) {
        Ok(webhooks) => {
            for webhook in &webhooks {
                assert!(matches!(webhook.url.scheme(), "http" | "https"));
                assert!(!webhook.host().is_empty());
                assert!(!webhook.events.is_empty());
                let shown = format!("{webhook:?}");
                let url = webhook.url.as_str();
                let hidden = [
                    webhook.url.path(),
                    webhook.url.query().unwrap_or_default(),
                    webhook.url.password().unwrap_or_default(),
                ];
                for part in hidden {
                    if part.len() > 8 && !webhook.host().contains(part) {
                        assert!(!shown.contains(part), "{url} shown as {shown}");
                    }
                }
            }
        }
        Err(e) => assert!(e.starts_with(KEY), "{e}"),
    }
});
