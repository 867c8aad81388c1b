//! Cluster membership and job ownership: heartbeats with the database clock, claiming jobs,
//! and keeping the scheduler's set of held jobs equal to what the database says this replica
//! owns.

mod health;
mod membership;

pub use health::Health;
pub use membership::{Membership, MembershipOptions};
