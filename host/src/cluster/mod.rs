//! Cluster membership and job ownership: heartbeats with the database clock (and, on
//! PostgreSQL, a database session whose end tells peers at once that a replica crashed),
//! balanced claiming of jobs without a live owner, rebalancing by direct handoff, change
//! notifications, the housekeeping leader, and keeping the scheduler's set of held jobs equal
//! to what the database says this replica owns.

pub mod balance;
mod handoff;
mod health;
mod leader;
mod membership;

pub use health::Health;
pub use leader::{HOUSEKEEPING_LEASE, Leadership};
pub use membership::{Membership, MembershipOptions};
