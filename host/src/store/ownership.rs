//! Who owns how many jobs: the snapshot a replica balances from.

/// Live instances and how many jobs each owns, plus the jobs no live instance owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    /// `(instance id, jobs it owns)` for every live instance, by id.
    pub live: Vec<(String, i64)>,
    /// Jobs without a live owner (no owner, or a dead or departed one).
    pub orphans: i64,
}

impl Ownership {
    /// Every job, owned or not.
    pub fn total(&self) -> i64 {
        self.orphans + self.live.iter().map(|(_, n)| n).sum::<i64>()
    }

    /// Jobs `instance` owns (0 when it is not live).
    pub fn count(&self, instance: &str) -> i64 {
        self.live
            .iter()
            .find(|(id, _)| id == instance)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// Whether `instance` is live.
    pub fn is_live(&self, instance: &str) -> bool {
        self.live.iter().any(|(id, _)| id == instance)
    }
}
