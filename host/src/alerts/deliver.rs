//! Delivering the outbox: every replica runs [`deliver_alerts`]; each due row is claimed by
//! one of them under a lease (database clock), posted to its webhook, and settled under that
//! claim. A failed post is retried with exponential backoff ([`backoff_ms`]) until the alert
//! is [`RETRY_WINDOW`] old, then given up. A replica that dies mid-delivery holds its rows
//! until it is seen dead (its heartbeat older than dead-after, the same rule that hands its
//! jobs over) or its lease ([`LEASE`]) runs out, whichever comes first; another replica then
//! claims the row and posts it again, so a receiver may see an alert twice only when a
//! replica died (or stalled past dead-after) after posting it and before recording that it
//! did.
//!
//! Posts go through the egress guard as a target the operator configured
//! ([`Egress::configured`] with the webhook's `host:port`): that host's public, private and
//! loopback addresses are reached; link-local and metadata addresses and the replica's own API
//! address never — for a host given as an IP address too ([`refused`], since the guard lets an
//! IP entry reach whatever it names); redirects are not followed (a 3xx is a failed
//! delivery). A job's `allowed_hosts` has no say: alerts are the host's, not a plugin's.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

use super::body::payload;
use crate::runtime::egress::{AddressClass, Egress, OwnAddresses, Target, classify};
use crate::settings::{SettingsCache, Webhook};
use crate::store::{AlertOutcome, ClaimedAlert, Store};

/// How long a claim holds a row: far longer than one post ([`POST_TIMEOUT`]).
pub const LEASE: Duration = Duration::from_secs(60);
/// Longest wait for a webhook's answer.
pub const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a failing delivery is retried before it is given up.
pub const RETRY_WINDOW: Duration = Duration::from_secs(3600);
/// How often a replica looks for due deliveries.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Rows claimed per look.
const BATCH: i64 = 32;
/// First retry delay; each further one doubles, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The delay after the `failed`-th failed attempt (from 1): 1 s, 2 s, 4 s, … up to 5 min.
pub fn backoff_ms(failed: i32) -> i64 {
    let doublings = (failed.max(1) - 1).min(20) as u32;
    let delay = FIRST_BACKOFF.as_millis() as i64 * (1_i64 << doublings);
    delay.min(MAX_BACKOFF.as_millis() as i64)
}

/// Deliver due alerts until `stop`, as `instance`.
pub async fn deliver_alerts(
    store: Store,
    settings: SettingsCache,
    own: Arc<OwnAddresses>,
    instance: String,
    dead_after: Duration,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        if let Err(e) = round(&store, &settings, &own, &instance, dead_after).await {
            tracing::debug!(error = %e, "cannot deliver alerts now");
        }
    }
}

/// Claims what is due and delivers it, the rows of different chains at once.
async fn round(
    store: &Store,
    settings: &SettingsCache,
    own: &Arc<OwnAddresses>,
    instance: &str,
    dead_after: Duration,
) -> Result<(), crate::store::StoreError> {
    let claimed = store
        .claim_alerts(
            instance,
            LEASE.as_millis() as i64,
            dead_after.as_millis() as i64,
            BATCH,
        )
        .await?;
    if claimed.is_empty() {
        return Ok(());
    }
    let hooks = settings.get().webhooks.clone();
    let hooks = &hooks;
    let outcomes = join_all(claimed.iter().map(|row| async move {
        let hook = hooks.iter().find(|h| h.key() == row.target);
        (row, attempt(hook, row, own).await)
    }))
    .await;
    let now = store.now_ms().await?;
    for (row, result) in outcomes {
        let outcome = match result {
            Ok(()) => AlertOutcome::Delivered,
            Err(error) if now - row.created_at_ms >= RETRY_WINDOW.as_millis() as i64 => {
                AlertOutcome::GiveUp { error }
            }
            Err(error) if error == NOT_CONFIGURED => AlertOutcome::GiveUp { error },
            Err(error) => AlertOutcome::Retry {
                error,
                delay_ms: backoff_ms(row.attempts + 1),
            },
        };
        let label = match &outcome {
            AlertOutcome::Delivered => "delivered",
            AlertOutcome::Retry { .. } => "failed",
            AlertOutcome::GiveUp { .. } => "given_up",
        };
        crate::metrics::global().alert_delivery(label);
        match &outcome {
            AlertOutcome::Delivered => {
                tracing::info!(id = row.id, event = %row.event, "alert delivered")
            }
            AlertOutcome::Retry { error, delay_ms } => {
                tracing::warn!(id = row.id, event = %row.event, attempts = row.attempts + 1, retry_in_ms = delay_ms, error = %error, "alert delivery failed")
            }
            AlertOutcome::GiveUp { error } => {
                tracing::error!(id = row.id, event = %row.event, attempts = row.attempts + 1, error = %error, "alert delivery given up")
            }
        }
        if !store.settle_alert(row.id, row.claim, &outcome).await? {
            tracing::warn!(
                id = row.id,
                "alert delivery outlived its lease: another replica took it over"
            );
        }
    }
    Ok(())
}

/// Why a row whose webhook was removed from the setting is given up.
const NOT_CONFIGURED: &str = "the webhook is no longer configured";

/// One post of `row` to `hook`; the error as recorded.
async fn attempt(
    hook: Option<&Webhook>,
    row: &ClaimedAlert,
    own: &Arc<OwnAddresses>,
) -> Result<(), String> {
    let hook = hook.ok_or_else(|| NOT_CONFIGURED.to_owned())?;
    post(
        hook,
        &payload(&row.body, row.created_at_ms, hook.format),
        own,
    )
    .await
}

/// Why a webhook whose host is an IP address may not be posted to: one a host name could
/// not reach either (link-local, metadata, unspecified, multicast, broadcast or reserved, or
/// the replica's own API address). `None` for a host name: the guard decides per address.
pub fn refused(hook: &Webhook, own: &OwnAddresses) -> Option<String> {
    let Target::Ip(ip) = Target::parse(&hook.host()) else {
        return None;
    };
    let port = hook.url.port_or_known_default().unwrap_or(443);
    let class = classify(ip);
    let reachable = matches!(
        class.class,
        AddressClass::Public
            | AddressClass::Private
            | AddressClass::Shared
            | AddressClass::Loopback
    );
    if !reachable {
        return Some(format!("{} denied: {class}", hook.authority()));
    }
    own.contains(std::net::SocketAddr::new(ip, port))
        .then(|| format!("{} denied: the replica's own API address", hook.authority()))
}

/// Posts `body` to `hook` through the egress guard; `Ok` on a 2xx answer.
pub async fn post(
    hook: &Webhook,
    body: &serde_json::Value,
    own: &Arc<OwnAddresses>,
) -> Result<(), String> {
    if let Some(why) = refused(hook, own) {
        return Err(why);
    }
    let egress = Egress::configured(&hook.authority(), own.clone()).map_err(|e| e.to_string())?;
    let builder = reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .connect_timeout(POST_TIMEOUT);
    let mut request = egress
        .http_request(reqwest::Method::POST, hook.url.as_str(), builder)
        .await
        .map_err(|e| e.to_string())?
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("wasmcron/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in &hook.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let answer = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {}", hook.host(), without_url(e)))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{} answered {status}", hook.host()))
    }
}

/// A client error's text without the URL it carries (it may hold a token).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_up_to_five_minutes() {
        let delays: Vec<i64> = (1..=12).map(backoff_ms).collect();
        assert_eq!(
            delays,
            vec![
                1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
                300_000, 300_000
            ]
        );
        // Retried for the whole window: over an hour, at most ~20 attempts.
        let mut at = 0;
        let mut attempts = 0;
        while at < RETRY_WINDOW.as_millis() as i64 {
            attempts += 1;
            at += backoff_ms(attempts);
        }
        assert!((15..=25).contains(&attempts), "{attempts}");
    }

    fn hook(url: &str) -> Webhook {
        let value = serde_json::json!([{ "url": url }]);
        crate::settings::parse_webhooks("alerts.webhooks", &value).unwrap()[0].clone()
    }

    #[test]
    fn an_ip_webhook_reaches_what_a_host_name_would_and_never_the_replica() {
        let own = OwnAddresses::default();
        own.set("127.0.0.1:8080".parse().unwrap(), &[]);
        for url in [
            "http://169.254.169.254/latest",
            "http://[fe80::1]:80/",
            "http://0.0.0.0:9000/",
            "http://127.0.0.1:8080/api/v1/jobs",
            "http://[::ffff:127.0.0.1]:8080/",
        ] {
            assert!(refused(&hook(url), &own).is_some(), "{url}");
        }
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/hook",
            "https://93.184.216.34/hook",
            "https://hooks.example.com/hook",
        ] {
            assert_eq!(refused(&hook(url), &own), None, "{url}");
        }
    }

    #[tokio::test]
    async fn a_refused_webhook_is_not_connected_to() {
        let own = std::sync::Arc::new(OwnAddresses::default());
        let err = post(
            &hook("http://169.254.169.254/x"),
            &serde_json::json!({}),
            &own,
        )
        .await
        .unwrap_err();
        assert!(err.contains("169.254.169.254:80 denied"), "{err}");
    }
}
