//! What one client may ask of the API: repeated failed bearer tokens slow it down (429 with
//! `Retry-After`), it may hold only so many event streams open, and its request line and
//! headers are bounded. A client is its IP address (an IPv6 client its /64 prefix), as the
//! connection shows it: behind a proxy every client is the proxy.
//!
//! Failed tokens: the first [`FREE_FAILURES`] within [`FORGET_AFTER`] of each other cost
//! nothing; from then on each one blocks the client's requests that carry a token for
//! twice as long as the one before (1 s, 2 s, 4 s, … up to [`MAX_BLOCK`]), whatever token they
//! carry — so guessing goes no faster with a valid token mixed in. A client that stops failing
//! for [`FORGET_AFTER`] starts afresh. At most [`MAX_CLIENTS`] clients are remembered.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorCode};

/// Failed tokens a client may present before it is slowed down.
pub const FREE_FAILURES: u32 = 5;
/// The longest a client is blocked after a failed token.
pub const MAX_BLOCK: Duration = Duration::from_secs(60);
/// A client's failures are forgotten this long after its last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Clients remembered at once (failures, open streams); the oldest are forgotten first.
pub const MAX_CLIENTS: usize = 10_000;
/// Event streams one client may hold open at once.
pub const MAX_STREAMS_PER_CLIENT: usize = 8;
/// What `Retry-After` says to a client with too many streams open.
const STREAMS_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Largest request line and header section (the URI, every header name and value).
pub const MAX_HEADER_BYTES: usize = 16 << 10;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 64;

/// The key a client is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Client(IpAddr);

impl Client {
    /// The client of `request` (one shared key when the server does not say who connected).
    pub fn of(request: &Request) -> Client {
        Client::from_extensions(request.extensions())
    }

    fn from_extensions(extensions: &axum::http::Extensions) -> Client {
        let ip = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        Client::from_ip(ip)
    }

    /// The key of `ip`: itself, or its /64 prefix for IPv6 (one host's share of a network).
    pub fn from_ip(ip: IpAddr) -> Client {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & (u128::MAX << 64);
                Client(IpAddr::V6(Ipv6Addr::from(bits)))
            }
            v4 => Client(v4),
        }
    }

    /// The address (or prefix) for logs.
    pub fn ip(&self) -> IpAddr {
        self.0
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client::from_extensions(&parts.extensions))
    }
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// The per-client counts of one replica.
#[derive(Debug, Default)]
pub struct ClientLimits {
    failures: Mutex<HashMap<Client, Failures>>,
    streams: Arc<Mutex<HashMap<Client, usize>>>,
}

impl ClientLimits {
    /// How long `client` must still wait before presenting a token, if it is blocked.
    pub fn blocked(&self, client: Client, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .get(&client)
            .and_then(|f| f.blocked_until)
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Record a failed token of `client` at `now`: its failure count, and how long it is
    /// blocked from now on (`None`: not yet).
    pub fn failed(&self, client: Client, now: Instant) -> (u32, Option<Duration>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if !failures.contains_key(&client) && failures.len() >= MAX_CLIENTS {
            failures.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            if failures.len() >= MAX_CLIENTS
                && let Some(oldest) = failures.iter().min_by_key(|(_, f)| f.last).map(|(c, _)| *c)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(client).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let block = block_after(entry.count);
        entry.blocked_until = block.map(|b| now + b);
        (entry.count, block)
    }

    /// A slot for one more open event stream of `client`, or `None` when it holds
    /// [`MAX_STREAMS_PER_CLIENT`] already. The slot is given back when dropped.
    pub fn open_stream(&self, client: Client) -> Option<StreamSlot> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if !streams.contains_key(&client) && streams.len() >= MAX_CLIENTS {
            return None;
        }
        let open = streams.entry(client).or_insert(0);
        if *open >= MAX_STREAMS_PER_CLIENT {
            return None;
        }
        *open += 1;
        Some(StreamSlot {
            client,
            streams: self.streams.clone(),
        })
    }
}

/// How long the `count`-th failure in a row blocks a client.
pub fn block_after(count: u32) -> Option<Duration> {
    let beyond = count.checked_sub(FREE_FAILURES)?;
    let secs = 1u64.checked_shl(beyond).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_BLOCK))
}

/// One open event stream of a client; dropping it closes the slot.
#[derive(Debug)]
pub struct StreamSlot {
    client: Client,
    streams: Arc<Mutex<HashMap<Client, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = streams.get_mut(&self.client) {
            *open -= 1;
            if *open == 0 {
                streams.remove(&self.client);
            }
        }
    }
}

/// A 429 answer in the API's error shape with `Retry-After` (whole seconds, at least 1).
pub fn too_many(wait: Duration, message: impl Into<String>) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyRequests,
        message,
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// What [`MAX_STREAMS_PER_CLIENT`] answers.
pub fn too_many_streams() -> Response {
    too_many(
        STREAMS_RETRY_AFTER,
        format!(
            "this client has {MAX_STREAMS_PER_CLIENT} event streams open already; close one first"
        ),
    )
}

/// Refuses a request whose request line and headers exceed [`MAX_HEADER_BYTES`], or with more
/// than [`MAX_HEADERS`] headers, with 431.
pub async fn bound_headers(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let size = request.uri().to_string().len()
        + headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum::<usize>();
    if size > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            format!(
                "the request line and headers may hold at most {MAX_HEADER_BYTES} bytes in at most {MAX_HEADERS} headers"
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// Every `/api/` answer, whoever gives it: not to be stored by any cache (it may carry tokens
/// or job data).
pub async fn no_store(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Client {
        Client::from_ip(ip.parse().unwrap())
    }

    #[test]
    fn failures_block_for_doubling_times_after_the_free_ones() {
        let blocks: Vec<Option<u64>> = (1..=13)
            .map(|n| block_after(n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            blocks,
            [
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60),
                Some(60),
                Some(60)
            ]
        );
        assert_eq!(block_after(u32::MAX), Some(MAX_BLOCK));
    }

    #[test]
    fn a_client_is_blocked_then_forgiven() {
        let limits = ClientLimits::default();
        let t0 = Instant::now();
        let a = client("192.0.2.7");
        for n in 1..FREE_FAILURES {
            assert_eq!(limits.failed(a, t0), (n, None));
            assert_eq!(limits.blocked(a, t0), None);
        }
        assert_eq!(
            limits.failed(a, t0),
            (FREE_FAILURES, Some(Duration::from_secs(1)))
        );
        assert_eq!(limits.blocked(a, t0), Some(Duration::from_secs(1)));
        assert_eq!(
            limits.blocked(a, t0 + Duration::from_millis(400)),
            Some(Duration::from_millis(600))
        );
        assert_eq!(limits.blocked(a, t0 + Duration::from_secs(1)), None);
        // Another client is not affected.
        assert_eq!(limits.blocked(client("192.0.2.8"), t0), None);
        // After a quiet spell the count starts afresh.
        let later = t0 + FORGET_AFTER;
        assert_eq!(limits.failed(a, later), (1, None));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_prefix() {
        assert_eq!(
            client("2001:db8:1:2:3:4:5:6"),
            client("2001:db8:1:2:ffff::1")
        );
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("::ffff:192.0.2.1"), client("192.0.2.1"));
    }

    #[test]
    fn memory_is_bounded_by_the_number_of_clients() {
        let limits = ClientLimits::default();
        let now = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 50) {
            limits.failed(Client::from_ip(IpAddr::V4(i.into())), now);
        }
        assert_eq!(limits.failures.lock().unwrap().len(), MAX_CLIENTS);
    }

    #[test]
    fn stream_slots_are_bounded_and_given_back() {
        let limits = ClientLimits::default();
        let a = client("192.0.2.7");
        let slots: Vec<StreamSlot> = (0..MAX_STREAMS_PER_CLIENT)
            .map(|_| limits.open_stream(a).expect("a slot"))
            .collect();
        assert!(limits.open_stream(a).is_none());
        assert!(limits.open_stream(client("192.0.2.8")).is_some());
        drop(slots);
        assert!(limits.open_stream(a).is_some());
        assert!(limits.streams.lock().unwrap().len() <= 1);
    }
}
