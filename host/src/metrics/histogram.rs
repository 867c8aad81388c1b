//! A cumulative histogram with fixed buckets.

use std::fmt::Write;
use std::sync::Mutex;

/// Observations counted per bucket (upper bounds), with their sum.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// A histogram with these (ascending) upper bounds; `+Inf` is implied.
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            state: Mutex::new(State {
                counts: vec![0; bounds.len()],
                ..State::default()
            }),
        }
    }

    /// Count one observation.
    pub fn observe(&self, value: f64) {
        let mut s = self.state.lock().expect("histogram lock");
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            s.counts[i] += 1;
        }
        s.sum += value;
        s.count += 1;
    }

    /// Append the exposition of this histogram as `name`.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
        let s = self.state.lock().expect("histogram lock");
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&s.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", s.count);
        let _ = writeln!(out, "{name}_sum {}", s.sum);
        let _ = writeln!(out, "{name}_count {}", s.count);
    }
}
