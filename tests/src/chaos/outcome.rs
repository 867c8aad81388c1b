//! A check's outcome: figures to print and violations.

/// A check's outcome: numbers to print and violations (each a line naming job and tick).
#[derive(Debug, Default)]
pub struct Outcome {
    pub name: &'static str,
    pub figures: Vec<(String, String)>,
    pub violations: Vec<String>,
}

impl Outcome {
    /// An outcome of check `name` with nothing in it yet.
    pub fn new(name: &'static str) -> Self {
        Outcome {
            name,
            ..Outcome::default()
        }
    }

    /// Adds a figure to print.
    pub fn figure(&mut self, key: &str, value: impl ToString) {
        self.figures.push((key.to_string(), value.to_string()));
    }

    /// No violation.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The outcome as text: a header line, the figures, then at most `max` violations.
    pub fn render(&self, max: usize) -> String {
        let mut out = format!(
            "check {}: {}\n",
            self.name,
            if self.passed() {
                "PASS".to_string()
            } else {
                format!("FAIL ({} violations)", self.violations.len())
            }
        );
        for (k, v) in &self.figures {
            out += &format!("    {k}: {v}\n");
        }
        for v in self.violations.iter().take(max) {
            out += &format!("    VIOLATION {v}\n");
        }
        if self.violations.len() > max {
            out += &format!("    ... and {} more\n", self.violations.len() - max);
        }
        out
    }
}
