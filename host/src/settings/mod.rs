//! Cluster-wide settings: typed keys ([`Settings`]) and the named API tokens ([`TokenSet`]),
//! read through one in-memory cache per replica ([`SettingsCache`]).

mod cache;
mod keys;
mod retry;
pub mod tokens;
pub mod webhooks;

pub use cache::SettingsCache;
pub use keys::{SettingError, Settings, parse_bytes};
pub use retry::{DEFAULT_BACKOFF, DEFAULT_MAX_BACKOFF, RetryError, parse_retry, retry_json};
pub use tokens::{Identity, Role, TokenSet};
pub use webhooks::{AlertEvent, Format, Webhook, parse_webhooks};
