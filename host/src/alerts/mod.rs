//! Alerts to webhooks: failed runs, missed ticks, jobs pausing themselves, stale and
//! recovered jobs, plugins that fail to load, each delivered once for the whole cluster.
//!
//! - [`body`]: an alert's facts ([`Alert`]), its key, its JSON and Slack bodies;
//! - [`outbox`]: raising an alert ([`AlertQueue`]): one outbox row per webhook, written once;
//! - [`deliver`]: claiming due rows under a lease and posting them ([`deliver_alerts`]).
//!
//! The `alerts.webhooks` setting (which webhooks, which events, which format) is read in
//! `settings::webhooks`.
//!
//! The outbox is a table of the database (`store::alerts`), so an alert outlives the replica
//! that raised it and the one delivering it.

pub mod body;
pub mod deliver;
pub mod outbox;

pub use body::Alert;
pub use deliver::deliver_alerts;
pub use outbox::{AlertQueue, AlertWriter};
