//! Errors of the registry client: each one line, naming what failed and where.

use oci_client::errors::{OciDistributionError, OciErrorCode};

/// Why a push, a pull or a reference failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid plugin reference {text:?}: {reason}")]
    InvalidReference { text: String, reason: String },
    #[error("cannot read the registry credentials in {path}: {reason}")]
    Credentials { path: String, reason: String },
    #[error("{reference}: the registry refused the credentials{hint}")]
    Unauthorized { reference: String, hint: String },
    #[error("{reference}: no such tag or manifest in the registry")]
    NotFound { reference: String },
    #[error(
        "{reference}: the manifest has no application/wasm layer (layers: {layers}); is it a wasm component artifact?"
    )]
    NoWasmLayer { reference: String, layers: String },
    #[error("{reference}: the manifest has {count} application/wasm layers; expected one")]
    SeveralWasmLayers { reference: String, count: usize },
    #[error("{reference}: the wasm layer is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        reference: String,
        size: u64,
        limit: u64,
    },
    #[error("{reference}: digest mismatch: expected {expected}, the registry sent {actual}")]
    DigestMismatch {
        reference: String,
        expected: String,
        actual: String,
    },
    #[error("{reference}: cannot reach the registry: {reason}{hint}")]
    Unreachable {
        reference: String,
        reason: String,
        hint: String,
    },
    #[error("{reference}: {reason}")]
    Registry { reference: String, reason: String },
    #[error("{reference}: {reason}")]
    Denied { reference: String, reason: String },
    #[error("cannot start the registry client: {0}")]
    Start(String),
}

impl RegistryError {
    /// The error of an operation on `reference` (over plain HTTP when `plain_http`).
    pub(super) fn from_oci(reference: &str, plain_http: bool, error: OciDistributionError) -> Self {
        let reference = reference.to_string();
        let hint = |text: &str| {
            if plain_http {
                String::new()
            } else {
                text.to_string()
            }
        };
        match error {
            OciDistributionError::AuthenticationFailure(_)
            | OciDistributionError::UnauthorizedError { .. } => RegistryError::Unauthorized {
                reference,
                hint: String::new(),
            },
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            } => RegistryError::Unauthorized {
                reference,
                hint: String::new(),
            },
            OciDistributionError::ImageManifestNotFoundError(_) => {
                RegistryError::NotFound { reference }
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    RegistryError::NotFound { reference }
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    RegistryError::Unauthorized {
                        reference,
                        hint: String::new(),
                    }
                } else {
                    let reasons: Vec<String> = envelope
                        .errors
                        .iter()
                        .map(|e| format!("{:?}: {}", e.code, e.message))
                        .collect();
                    RegistryError::Registry {
                        reference,
                        reason: format!("the registry answered {}", reasons.join("; ")),
                    }
                }
            }
            OciDistributionError::DigestError(
                oci_client::errors::DigestError::VerificationError { expected, actual },
            ) => RegistryError::DigestMismatch {
                reference,
                expected,
                actual,
            },
            OciDistributionError::RequestError(e) if e.is_connect() || e.is_request() => {
                RegistryError::Unreachable {
                    reference,
                    reason: one_line(&error_chain(&e)),
                    hint: hint(
                        " (a registry that speaks plain HTTP must be named with --insecure-registry HOST:PORT)",
                    ),
                }
            }
            other => RegistryError::Registry {
                reference,
                reason: one_line(&error_chain(&other)),
            },
        }
    }
}

/// An error's message followed by its sources' messages.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
