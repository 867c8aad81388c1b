//! The bounded log of one run: host `log` calls and captured stdout/stderr, in order.

use std::sync::{Arc, Mutex};

use super::secrets::Redactor;

/// Limits of a run's log.
#[derive(Clone, Copy, Debug)]
pub struct LogLimits {
    /// Bytes kept in the run record.
    pub max_bytes: usize,
    /// `log` calls accepted per run; further lines are counted and dropped.
    pub max_lines: u32,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_bytes: 64 << 10,
            max_lines: 1000,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    text: String,
    lines: u32,
    dropped_lines: u64,
    dropped_bytes: u64,
    /// Per output stream, what was written after its last newline: kept back until the line
    /// is complete, so a secret value written in two pieces is redacted whole.
    pending: Vec<(String, String)>,
}

impl Inner {
    fn pending(&mut self, stream: &str) -> &mut String {
        let at = match self.pending.iter().position(|(s, _)| s == stream) {
            Some(at) => at,
            None => {
                self.pending.push((stream.to_owned(), String::new()));
                self.pending.len() - 1
            }
        };
        &mut self.pending[at].1
    }
}

/// Appends `line` to `text` within `max_bytes` (cut on a char boundary), counting what is cut.
fn append(text: &mut String, dropped_bytes: &mut u64, max_bytes: usize, line: &str) {
    let room = max_bytes.saturating_sub(text.len());
    if line.len() <= room {
        text.push_str(line);
    } else {
        let mut cut = room;
        while cut > 0 && !line.is_char_boundary(cut) {
            cut -= 1;
        }
        text.push_str(&line[..cut]);
        *dropped_bytes += (line.len() - cut) as u64;
    }
}

/// Shared, bounded run log. Cheap to clone (all clones write to the same log).
#[derive(Clone, Debug)]
pub struct RunLog {
    limits: LogLimits,
    inner: Arc<Mutex<Inner>>,
    /// Secret values replaced in every line as it is written (before any bound cuts it).
    redactor: Redactor,
}

impl RunLog {
    pub fn new(limits: LogLimits) -> Self {
        RunLog {
            limits,
            inner: Arc::default(),
            redactor: Redactor::default(),
        }
    }

    /// This log, redacting the values of `redactor` from every line written.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Append one structured line (from the `log` import or the host). Returns false when the
    /// line was dropped by the rate bound.
    pub fn line(&self, level: &str, message: &str) -> bool {
        let mut inner = self.inner.lock().expect("run log lock");
        if inner.lines >= self.limits.max_lines {
            inner.dropped_lines += 1;
            return false;
        }
        inner.lines += 1;
        let line = format!("[{level}] {}\n", self.redactor.redact(message));
        self.push(&mut inner, &line);
        true
    }

    /// Append raw bytes written by the plugin to stdout or stderr. A line is redacted and
    /// kept once it is complete (or at the end of the run, [`RunLog::text`]), so a value
    /// written in pieces is redacted whole; a line longer than the log's bound is kept in
    /// pieces of that size.
    pub fn output(&self, stream: &str, bytes: &[u8]) {
        let mut inner = self.inner.lock().expect("run log lock");
        let max_bytes = self.limits.max_bytes;
        let buffer = inner.pending(stream);
        buffer.push_str(&String::from_utf8_lossy(bytes));
        let mut complete = Vec::new();
        while let Some(end) = buffer.find('\n') {
            complete.push(buffer.drain(..=end).collect::<String>());
        }
        if buffer.len() > max_bytes {
            complete.push(std::mem::take(buffer) + "\n");
        }
        for line in complete {
            let line = format!("[{stream}] {}", self.redactor.redact(&line));
            self.push(&mut inner, &line);
        }
    }

    fn push(&self, inner: &mut Inner, line: &str) {
        let Inner {
            text,
            dropped_bytes,
            ..
        } = inner;
        append(text, dropped_bytes, self.limits.max_bytes, line);
    }

    /// The log text (with the output lines not ended by a newline), and a closing note when
    /// anything was dropped.
    pub fn text(&self) -> String {
        let inner = self.inner.lock().expect("run log lock");
        let mut text = inner.text.clone();
        let mut dropped_bytes = inner.dropped_bytes;
        for (stream, rest) in inner.pending.iter().filter(|(_, rest)| !rest.is_empty()) {
            let line = format!("[{stream}] {}\n", self.redactor.redact(rest));
            append(&mut text, &mut dropped_bytes, self.limits.max_bytes, &line);
        }
        if inner.dropped_lines > 0 {
            text.push_str(&format!(
                "[wasmcron] {} log lines dropped (limit {} per run)\n",
                inner.dropped_lines, self.limits.max_lines
            ));
        }
        if dropped_bytes > 0 {
            text.push_str(&format!(
                "[wasmcron] {} bytes of output dropped (limit {} bytes per run)\n",
                dropped_bytes, self.limits.max_bytes
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_limit_are_counted_not_kept() {
        let log = RunLog::new(LogLimits {
            max_bytes: 1 << 20,
            max_lines: 2,
        });
        assert!(log.line("info", "a"));
        assert!(log.line("info", "b"));
        assert!(!log.line("info", "c"));
        let text = log.text();
        assert!(text.starts_with("[info] a\n[info] b\n"), "{text}");
        assert!(text.contains("1 log lines dropped"), "{text}");
    }

    #[test]
    fn secret_values_are_redacted_before_the_bound_cuts_a_line() {
        let redactor = Redactor::default();
        redactor.add("0123456789abcdef");
        let log = RunLog::new(LogLimits {
            max_bytes: 24,
            max_lines: 10,
        })
        .with_redactor(redactor);
        log.line("info", "key 0123456789abcdef");
        log.output("stdout", b"0123456789abcdef\n");
        let text = log.text();
        assert!(text.starts_with("[info] key [redacted]\n"), "{text}");
        assert!(!text.contains("0123"), "{text}");
    }

    #[test]
    fn a_secret_value_written_in_pieces_is_redacted_whole() {
        let redactor = Redactor::default();
        redactor.add("0123456789abcdef");
        let log = RunLog::new(LogLimits::default()).with_redactor(redactor);
        log.output("stdout", b"token 01234567");
        log.output("stderr", b"oops\n");
        log.output("stdout", b"89abcdef and more\nlast 0123");
        log.output("stdout", b"456789abcdef");
        let text = log.text();
        assert_eq!(
            text,
            "[stderr] oops\n[stdout] token [redacted] and more\n[stdout] last [redacted]\n"
        );
    }

    #[test]
    fn output_is_truncated_at_the_byte_bound_on_a_char_boundary() {
        let log = RunLog::new(LogLimits {
            max_bytes: 20,
            max_lines: 10,
        });
        log.output("stdout", "ééééééééééééééé".as_bytes());
        let text = log.text();
        assert!(text.contains("bytes of output dropped"), "{text}");
        assert!(text.starts_with("[stdout] é"));
    }
}
