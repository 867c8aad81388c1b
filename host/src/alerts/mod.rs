//! Alerts to webhooks: failed runs, missed ticks, jobs pausing themselves, stale and
//! recovered jobs, plugins that fail to load, each delivered once for the whole cluster.
//!
//! - [`config`]: the `alerts.webhooks` setting ([`Webhook`], [`AlertEvent`], [`Format`]);
//! - [`body`]: an alert's facts ([`Alert`]), its key, its JSON and Slack bodies;
//! - [`outbox`]: raising an alert ([`AlertQueue`]): one outbox row per webhook, written once;
//! - [`deliver`]: claiming due rows under a lease and posting them ([`deliver_alerts`]).
//!
//! The outbox is a table of the database (`store::alerts`), so an alert outlives the replica
//! that raised it and the one delivering it.

pub mod body;
pub mod config;
pub mod deliver;
pub mod outbox;

pub use body::Alert;
pub use config::{AlertEvent, Format, Webhook, parse_webhooks};
pub use deliver::deliver_alerts;
pub use outbox::{AlertQueue, AlertWriter};
