//! Cluster-wide settings: typed keys ([`Settings`]) and the named API tokens ([`TokenSet`]),
//! read through one in-memory cache per replica ([`SettingsCache`]).

mod cache;
mod keys;
pub mod tokens;

pub use cache::SettingsCache;
pub use keys::{SettingError, Settings, parse_bytes};
pub use tokens::{Identity, Role, TokenSet};
