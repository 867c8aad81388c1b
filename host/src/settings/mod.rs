//! Cluster-wide settings: typed keys ([`Settings`]) read through one in-memory cache per
//! replica ([`SettingsCache`]).

mod cache;
mod keys;

pub use cache::SettingsCache;
pub use keys::{SettingError, Settings, parse_bytes};
