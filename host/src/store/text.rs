//! Bounds on the free text that runs produce (results, errors, logs).
//!
//! Plugins control this text, so the store caps it before writing: a run cannot bloat the
//! database. NUL characters, which PostgreSQL text cannot hold, are replaced on both backends
//! so that the stored text is the same everywhere.

/// Most bytes of a run's result that are stored.
pub const RESULT_LIMIT_BYTES: usize = 4 * 1024;
/// Most bytes of a run's error that are stored.
pub const ERROR_LIMIT_BYTES: usize = 4 * 1024;
/// Most bytes of a run's logs that are stored.
pub const LOGS_LIMIT_BYTES: usize = 64 * 1024;
/// Appended to text that was cut to its limit (counted within the limit).
pub const TRUNCATION_MARKER: &str = "…[truncated]";

/// `text` with NULs replaced and cut to at most `limit` bytes (on a character boundary),
/// ending in [`TRUNCATION_MARKER`] when it was cut.
pub(crate) fn bounded_text(text: &str, limit: usize) -> String {
    let clean = if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if clean.len() <= limit {
        return clean.into_owned();
    }
    let mut cut = limit.saturating_sub(TRUNCATION_MARKER.len());
    while !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + TRUNCATION_MARKER.len());
    out.push_str(&clean[..cut]);
    out.push_str(TRUNCATION_MARKER);
    out
}

/// [`bounded_text`] over an optional value.
pub(crate) fn bounded(text: Option<&str>, limit: usize) -> Option<String> {
    text.map(|t| bounded_text(t, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept() {
        assert_eq!(bounded_text("hello", 10), "hello");
    }

    #[test]
    fn long_text_is_cut_with_a_marker_within_the_limit() {
        let long = "é".repeat(5000); // 10,000 bytes
        let cut = bounded_text(&long, RESULT_LIMIT_BYTES);
        assert!(cut.len() <= RESULT_LIMIT_BYTES);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        assert!(cut.starts_with("éé"));
    }

    #[test]
    fn nul_is_replaced() {
        assert_eq!(bounded_text("a\0b", 10), "a\u{FFFD}b");
    }
}
