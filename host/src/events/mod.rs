//! Cluster-wide events: run started/finished, job changed, instance joined/left, plugin
//! loaded/failed, setting changed, token created/revoked. Every event is persisted in the
//! `events` table (bounded retention, by the leader's housekeeping) so any replica can stream
//! it (`GET /api/v1/events`) and a client can resume with `Last-Event-ID`.
//!
//! - [`kinds`]: the kinds and their payloads;
//! - [`feed`]: following the history ([`EventHub`]: one per replica, woken by notifications);
//! - [`watch`]: what a replica observes on its own (its plugins, its peers leaving);
//! - [`publish`]: the ordered queue every event goes through ([`Publisher`], [`EventWriter`]).

mod feed;
mod kinds;
mod publish;
mod watch;

pub use feed::{EventHub, GAP_WAIT, NOTIFIED_POLL_INTERVAL, POLL_INTERVAL};
pub use kinds::{Event, JobChange, SettingChange, TokenChange, instant};
pub use publish::{EventWriter, Publisher};
pub use watch::{watch_peers, watch_plugins};
