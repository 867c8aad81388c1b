//! Counter families whose label values are static strings (statuses, reasons), listed in the
//! exposition (`# HELP`, `# TYPE`) even before their first sample, as before.
//!
//! Counting on a bare [`Family`] takes its read lock and hashes the label set on every call,
//! which measured slower than the hand-written registry it replaced (see the module docs of
//! [`crate::metrics`]). The label values the hooks use are few and known, so each family keeps
//! a handle to the counter of each of them, resolved on its first use: counting compares a few
//! short strings and adds atomically. Other values still count, through the family.

use std::sync::OnceLock;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// `N` label names with their values.
pub type Labels<const N: usize> = [(&'static str, &'static str); N];

/// A counter family with `N` labels and `K` label-value sets known in advance.
#[derive(Debug)]
pub struct CounterFamily<const N: usize, const K: usize> {
    names: [&'static str; N],
    family: Family<Labels<N>, Counter>,
    known: [([&'static str; N], OnceLock<Counter>); K],
}

impl<const N: usize, const K: usize> CounterFamily<N, K> {
    /// A family with these label names, expecting mostly the `known` label values.
    pub fn new(names: [&'static str; N], known: [[&'static str; N]; K]) -> Self {
        CounterFamily {
            names,
            family: Family::default(),
            known: known.map(|values| (values, OnceLock::new())),
        }
    }

    fn labels(&self, values: [&'static str; N]) -> Labels<N> {
        std::array::from_fn(|i| (self.names[i], values[i]))
    }

    /// Add `n` to the counter with these label values. Its sample appears with its first
    /// count.
    pub fn add(&self, values: [&'static str; N], n: u64) {
        match self.known.iter().find(|(known, _)| *known == values) {
            Some((_, counter)) => counter
                .get_or_init(|| self.family.get_or_create_owned(&self.labels(values)))
                .inc_by(n),
            None => self.family.get_or_create(&self.labels(values)).inc_by(n),
        };
    }

    /// The family to register.
    pub fn listed(&self) -> Listed<Family<Labels<N>, Counter>> {
        Listed(self.family.clone())
    }
}

/// A metric that is encoded even when it holds no sample yet (prometheus-client leaves an
/// empty family out altogether).
#[derive(Debug)]
pub struct Listed<M>(pub M);

impl<M: EncodeMetric> EncodeMetric for Listed<M> {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::prometheus_text;
    use prometheus_client::registry::Registry;

    use super::*;

    #[test]
    fn known_and_other_values_count_into_one_family() {
        let f = CounterFamily::new(["status", "reason"], [["missed", "misfire"]]);
        f.add(["missed", "misfire"], 2);
        f.add(["missed", "misfire"], 1);
        f.add(["skipped", "elsewhere"], 5);
        let mut registry = Registry::default();
        registry.register("t", "Test", f.listed());
        let mut text = String::new();
        prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("t_total{status=\"missed\",reason=\"misfire\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("t_total{status=\"skipped\",reason=\"elsewhere\"} 5\n"),
            "{text}"
        );
    }
}
