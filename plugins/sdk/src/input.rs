//! The job's input: JSON text, decoded with serde into the type the job asks for.

use serde::de::DeserializeOwned;

use crate::{Context, Result};

/// Decodes a tick's `input` (JSON text) into `T`, as [`job!`](crate::job) does.
///
/// A job without input hands over `null`. When `T` does not accept `null` itself (a struct,
/// a map), `null` is read as an empty object `{}`, so a struct whose fields all have defaults
/// (`Option` fields, `#[serde(default)]`) works with and without input.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Input {
///     name: Option<String>,
/// }
///
/// let input: Input = wasmcron_plugin::decode_input(r#"{"name": "team"}"#).unwrap();
/// assert_eq!(input.name.as_deref(), Some("team"));
/// let input: Input = wasmcron_plugin::decode_input("null").unwrap();
/// assert_eq!(input.name, None);
/// let error = wasmcron_plugin::decode_input::<Input>(r#"{"name": 5}"#).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "the job's input does not fit: invalid type: integer `5`, expected a string at line 1 column 10"
/// );
/// ```
pub fn decode_input<T: DeserializeOwned>(input: &str) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_str(input).context("the job's input is not JSON")?;
    if value.is_null() {
        if let Ok(decoded) = serde_json::from_value(serde_json::Value::Null) {
            return Ok(decoded);
        }
        if let Ok(decoded) = serde_json::from_value(serde_json::json!({})) {
            return Ok(decoded);
        }
    }
    // Decoded from the text (not the value) so that serde's message has a line and column.
    serde_json::from_str(input).context("the job's input does not fit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Required {
        url: String,
    }

    #[test]
    fn null_is_none_unit_or_an_empty_object() {
        assert_eq!(decode_input::<Option<u8>>("null").unwrap(), None);
        decode_input::<()>("null").unwrap();
        let error = decode_input::<Required>("null").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the job's input does not fit"),
            "{error}"
        );
    }

    #[test]
    fn text_that_is_not_json_says_so() {
        let error = decode_input::<()>("{").unwrap_err();
        assert!(
            error.to_string().starts_with("the job's input is not JSON"),
            "{error}"
        );
    }
}
