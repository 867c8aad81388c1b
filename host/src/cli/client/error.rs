//! What can go wrong in a client command.

/// A client command's failure, worded for the terminal.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers at the server address.
    #[error("cannot reach wasmcron at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// The server answered with an error.
    #[error("{message}{}{}", field.as_deref().map(|f| format!(" (field: {f})")).unwrap_or_default(), format_args!(" [{status} {code}]"))]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The server answered something that is not the API's JSON.
    #[error("unexpected answer from {server}: {detail}")]
    Protocol { server: String, detail: String },
    /// The command line is not usable as given.
    #[error("{0}")]
    Usage(String),
}
