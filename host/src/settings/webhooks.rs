//! The `alerts.webhooks` setting: where alerts go (delivered by the alerts module), which
//! events each webhook wants, in which format, with which headers.
//!
//! ```json
//! [{"url": "https://hooks.example.com/T0/B0/xyz", "events": ["run.failed", "job.stale"],
//!   "format": "slack", "headers": {"Authorization": "Bearer …"}}]
//! ```
//!
//! `events` defaults to every event, `format` to `json`. URLs and headers may carry tokens:
//! the setting is masked in API reads, and listings show a webhook's host only.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The events an alert is raised for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertEvent {
    /// The last attempt of a tick failed or timed out.
    RunFailed,
    /// Ticks were recorded missed or skipped by policy (one alert per job per planning).
    TickMissed,
    /// A job paused itself after `pause_after_failures` failed ticks.
    JobPaused,
    /// A job did not succeed for its `stale_after`.
    JobStale,
    /// A stale job succeeded again.
    JobRecovered,
    /// A plugin file failed to load.
    PluginFailed,
}

impl AlertEvent {
    /// Every event.
    pub const ALL: [AlertEvent; 6] = [
        AlertEvent::RunFailed,
        AlertEvent::TickMissed,
        AlertEvent::JobPaused,
        AlertEvent::JobStale,
        AlertEvent::JobRecovered,
        AlertEvent::PluginFailed,
    ];

    /// The name in settings and bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::RunFailed => "run.failed",
            AlertEvent::TickMissed => "tick.missed",
            AlertEvent::JobPaused => "job.paused",
            AlertEvent::JobStale => "job.stale",
            AlertEvent::JobRecovered => "job.recovered",
            AlertEvent::PluginFailed => "plugin.failed",
        }
    }
}

impl fmt::Display for AlertEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertEvent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = AlertEvent::ALL.iter().map(|e| e.as_str()).collect();
                format!("unknown event {s:?} (known: {})", names.join(", "))
            })
    }
}

/// How a webhook's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The alert's facts as a JSON object.
    #[default]
    Json,
    /// `{"text": "…"}`: the same facts in one line, as Slack's incoming webhooks take them.
    Slack,
}

/// One configured webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The URL posted to (http or https, with a host).
    pub url: reqwest::Url,
    /// The events it receives.
    pub events: BTreeSet<AlertEvent>,
    /// Its body format.
    pub format: Format,
    /// Headers sent with every request, as configured.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for Webhook {
    // The URL and headers may carry tokens: only the host is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("host", &self.host())
            .field("events", &self.events)
            .field("format", &self.format)
            .field("headers", &self.headers.len())
            .finish()
    }
}

impl Webhook {
    /// The URL's host (an IPv6 address in brackets), all that listings show of it.
    pub fn host(&self) -> String {
        self.url.host_str().unwrap_or_default().to_owned()
    }

    /// `host:port`, the one target the egress guard lets this webhook reach.
    pub fn authority(&self) -> String {
        let port = self.url.port_or_known_default().unwrap_or(443);
        format!("{}:{port}", self.host())
    }

    /// The key that names this webhook in the outbox: a digest of its URL, so rows are
    /// matched to their webhook without storing the URL (nor its tokens) with them.
    pub fn key(&self) -> String {
        let digest = Sha256::digest(self.url.as_str().as_bytes());
        hex::encode(&digest[..8])
    }

    /// Whether it receives `event`.
    pub fn wants(&self, event: AlertEvent) -> bool {
        self.events.contains(&event)
    }
}

/// Reads the setting's value; the error names the offending field (`alerts.webhooks[0].url`).
pub fn parse_webhooks(key: &str, value: &Value) -> Result<Vec<Webhook>, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("{key}: expected a list of webhooks"))?;
    list.iter()
        .enumerate()
        .map(|(i, item)| parse_one(&format!("{key}[{i}]"), item))
        .collect()
}

fn parse_one(at: &str, item: &Value) -> Result<Webhook, String> {
    let fields = item
        .as_object()
        .ok_or_else(|| format!("{at}: expected an object with a url"))?;
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["url", "events", "format", "headers"].contains(&k.as_str()))
    {
        return Err(format!(
            "{at}.{unknown}: unknown field (known: url, events, format, headers)"
        ));
    }
    let text = fields
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}.url: expected a URL string"))?;
    let url = reqwest::Url::parse(text).map_err(|e| format!("{at}.url: not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{at}.url: only http and https URLs are allowed"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{at}.url: the URL has no host"));
    }
    let events = match fields.get("events") {
        None | Some(Value::Null) => AlertEvent::ALL.into_iter().collect(),
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str()
                    .ok_or_else(|| format!("{at}.events: expected event names"))?
                    .parse::<AlertEvent>()
                    .map_err(|e| format!("{at}.events: {e}"))
            })
            .collect::<Result<BTreeSet<_>, _>>()?,
        Some(_) => return Err(format!("{at}.events: expected a list of event names")),
    };
    if events.is_empty() {
        return Err(format!(
            "{at}.events: name at least one event (or leave it out for all)"
        ));
    }
    let format = match fields.get("format") {
        None | Some(Value::Null) => Format::Json,
        Some(Value::String(f)) if f == "json" => Format::Json,
        Some(Value::String(f)) if f == "slack" => Format::Slack,
        Some(other) => {
            return Err(format!(
                "{at}.format: expected \"json\" or \"slack\", got {other}"
            ));
        }
    };
    let headers = match fields.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| {
                let value = value
                    .as_str()
                    .ok_or_else(|| format!("{at}.headers.{name}: expected a string"))?;
                http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("{at}.headers.{name}: not a header name"))?;
                http::HeaderValue::from_str(value)
                    .map_err(|_| format!("{at}.headers.{name}: not a header value"))?;
                Ok((name.clone(), value.to_owned()))
            })
            .collect::<Result<Vec<_>, String>>()?,
        Some(_) => return Err(format!("{at}.headers: expected an object of strings")),
    };
    Ok(Webhook {
        url,
        events,
        format,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(value: Value) -> String {
        parse_webhooks("alerts.webhooks", &value).unwrap_err()
    }

    #[test]
    fn defaults_are_every_event_and_json() {
        let hooks = parse_webhooks(
            "alerts.webhooks",
            &json!([{"url": "http://127.0.0.1:9000/hook?token=s3cret"}]),
        )
        .unwrap();
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].events.len(), AlertEvent::ALL.len());
        assert_eq!(hooks[0].format, Format::Json);
        assert_eq!(hooks[0].host(), "127.0.0.1");
        assert_eq!(hooks[0].authority(), "127.0.0.1:9000");
        assert_eq!(hooks[0].key().len(), 16);
        assert!(!format!("{:?}", hooks[0]).contains("s3cret"));
        let slack = parse_webhooks(
            "alerts.webhooks",
            &json!([{"url": "https://hooks.example.com/x", "events": ["job.stale"],
                     "format": "slack", "headers": {"Authorization": "Bearer t"}}]),
        )
        .unwrap();
        assert_eq!(slack[0].format, Format::Slack);
        assert_eq!(slack[0].authority(), "hooks.example.com:443");
        assert!(slack[0].wants(AlertEvent::JobStale) && !slack[0].wants(AlertEvent::RunFailed));
        assert_eq!(
            slack[0].headers,
            vec![("Authorization".into(), "Bearer t".into())]
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(
            err(json!({})),
            "alerts.webhooks: expected a list of webhooks"
        );
        assert!(err(json!([{"url": "ftp://x/"}])).starts_with("alerts.webhooks[0].url: only http"));
        assert!(err(json!([{"url": "http://"}])).starts_with("alerts.webhooks[0].url"));
        assert!(
            err(json!([{"url": "not a url"}])).starts_with("alerts.webhooks[0].url: not a URL")
        );
        assert!(
            err(json!([{"url": "http://a/"}, {"url": "http://b/", "events": ["run.exploded"]}]))
                .starts_with("alerts.webhooks[1].events: unknown event \"run.exploded\"")
        );
        assert!(
            err(json!([{"url": "http://a/", "format": "xml"}]))
                .starts_with("alerts.webhooks[0].format: expected \"json\" or \"slack\"")
        );
        assert!(
            err(json!([{"url": "http://a/", "headers": {"X": 1}}]))
                .starts_with("alerts.webhooks[0].headers.X")
        );
        assert!(
            err(json!([{"url": "http://a/", "headers": {"bad name": "v"}}]))
                .starts_with("alerts.webhooks[0].headers.bad name: not a header name")
        );
        assert!(
            err(json!([{"url": "http://a/", "events": []}]))
                .starts_with("alerts.webhooks[0].events")
        );
        assert!(
            err(json!([{"url": "http://a/", "secret": 1}]))
                .starts_with("alerts.webhooks[0].secret: unknown field")
        );
    }
}
