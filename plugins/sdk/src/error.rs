//! The error a job returns: a message, which becomes the run's error.

use std::fmt;

/// `Result<T, Error>`: what a job and the crate's functions return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with a message. `?` turns any [`std::error::Error`] into one (its message and the
/// messages of its sources, joined by `: `); [`Error::msg`] and [`bail!`](crate::bail) make
/// one from text; [`Context::context`] puts what was being done in front.
///
/// ```
/// use wasmcron_plugin::{Context, Error, Result};
///
/// fn port(text: &str) -> Result<u16> {
///     let port: u16 = text.parse().context("the port must be a number")?;
///     if port == 0 {
///         return Err(Error::msg("the port must not be 0"));
///     }
///     Ok(port)
/// }
///
/// assert_eq!(port("80").unwrap(), 80);
/// assert_eq!(
///     port("eighty").unwrap_err().to_string(),
///     "the port must be a number: invalid digit found in string"
/// );
/// ```
///
/// `Error` deliberately does not implement [`std::error::Error`] (as with `anyhow`), so that
/// every error type converts into it.
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error {
            message: message.to_string(),
        }
    }

    /// This error with `context` in front: `"<context>: <message>"`.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Error {
            message: format!("{context}: {}", self.message),
        }
    }

    /// The message, as the run's error will show it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Many errors repeat their source's message in their own; say it once.
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Error { message }
    }
}

/// Adds what was being done to an error, on a `Result` or an `Option`.
pub trait Context<T> {
    /// On an error (or `None`), an [`Error`] whose message starts with `context`.
    fn context(self, context: impl fmt::Display) -> Result<T>;

    /// As [`Context::context`], with the context computed only on an error.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.ok_or_else(|| Error::msg(context))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::msg(context()))
    }
}

/// Returns early with an [`Error`] made from a format string.
///
/// ```
/// fn check(status: u16) -> wasmcron_plugin::Result<()> {
///     if status >= 500 {
///         wasmcron_plugin::bail!("the server failed with {status}");
///     }
///     Ok(())
/// }
/// assert_eq!(check(503).unwrap_err().to_string(), "the server failed with 503");
/// ```
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return ::core::result::Result::Err($crate::Error::msg(::std::format!($($arg)*)))
    };
}

/// Returns early with an [`Error`] made from a format string unless `condition` holds.
///
/// ```
/// fn check(count: usize) -> wasmcron_plugin::Result<()> {
///     wasmcron_plugin::ensure!(count > 0, "nothing to do");
///     Ok(())
/// }
/// assert_eq!(check(0).unwrap_err().to_string(), "nothing to do");
/// ```
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($arg:tt)*) => {
        if !$condition {
            $crate::bail!($($arg)*);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn sources_are_part_of_the_message() {
        let error = Error::from(Outer(std::io::Error::other("inner")));
        assert_eq!(error.to_string(), "outer: inner");
    }

    #[test]
    fn context_goes_in_front() {
        let result: std::result::Result<(), std::fmt::Error> = Err(std::fmt::Error);
        let error = result.context("formatting").unwrap_err();
        assert_eq!(
            error.to_string(),
            "formatting: an error occurred when formatting an argument"
        );
        assert_eq!(
            None::<u8>.context("no value").unwrap_err().message(),
            "no value"
        );
    }
}
