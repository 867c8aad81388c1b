//! A counter family with `N` labels.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Counters keyed by label values.
#[derive(Debug)]
pub struct LabelledCounter<const N: usize> {
    labels: [&'static str; N],
    values: Mutex<BTreeMap<[String; N], u64>>,
}

/// Escape a label value for the exposition format.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl<const N: usize> LabelledCounter<N> {
    /// A family with these label names.
    pub fn new(labels: [&'static str; N]) -> Self {
        LabelledCounter {
            labels,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    /// Add `n` to the counter with these label values.
    pub fn add(&self, values: [&str; N], n: u64) {
        let key = values.map(str::to_string);
        *self
            .values
            .lock()
            .expect("counter lock")
            .entry(key)
            .or_default() += n;
    }

    /// Append the exposition of this family as `name`.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (key, value) in self.values.lock().expect("counter lock").iter() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .zip(key)
                .map(|(l, v)| format!("{l}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}
