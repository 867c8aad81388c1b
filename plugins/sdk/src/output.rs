//! What a job returns on success: the run's result text.

use serde::Serialize;

/// A job's successful result, kept with the run as text (up to 4 KiB).
pub trait Output {
    /// The result text.
    fn into_text(self) -> String;
}

impl Output for String {
    fn into_text(self) -> String {
        self
    }
}

impl Output for &str {
    fn into_text(self) -> String {
        self.to_owned()
    }
}

/// No result text.
impl Output for () {
    fn into_text(self) -> String {
        String::new()
    }
}

/// A result kept as JSON text.
///
/// ```
/// use wasmcron_plugin::{Json, Output};
///
/// #[derive(serde::Serialize)]
/// struct Summary {
///     checked: u32,
/// }
///
/// assert_eq!(Json(Summary { checked: 3 }).into_text(), r#"{"checked":3}"#);
/// ```
#[derive(Clone, Debug)]
pub struct Json<T>(pub T);

impl<T: Serialize> Output for Json<T> {
    fn into_text(self) -> String {
        // Serializing plain data to a string does not fail; a type whose `Serialize` fails
        // (a map with non-string keys) is reported in the text rather than lost.
        serde_json::to_string(&self.0).unwrap_or_else(|e| format!("(result not serializable: {e})"))
    }
}
