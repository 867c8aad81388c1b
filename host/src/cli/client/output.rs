//! How answers are printed: pretty JSON for `--output json`, and the text of table cells
//! (absent or empty values as `-`, long ones cut to one line).

use std::fmt::Display;

use serde::Serialize;
use serde_json::Value;

/// Print `answer` as pretty JSON, keys sorted (as the client always printed them).
pub fn print_json<T: Serialize + ?Sized>(answer: &T) {
    let value = serde_json::to_value(answer).unwrap_or_default();
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}

/// A text as a cell: an empty text is `-`.
pub fn text(value: &str) -> String {
    if value.is_empty() {
        "-".into()
    } else {
        value.to_string()
    }
}

/// An optional value as a cell: absent is `-`.
pub fn opt<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".into(), |v| text(&v.to_string()))
}

/// Free-form JSON as a cell: strings bare, null as `-`, the rest as compact JSON.
pub fn value(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(s) => text(s),
        other => other.to_string(),
    }
}

/// A structured value (a map, a list) as a cell, written as compact JSON.
pub fn json<T: Serialize + ?Sized>(v: &T) -> String {
    value(&serde_json::to_value(v).unwrap_or_default())
}

/// A cell cut to `max` characters, on one line.
pub fn short(cell: String, max: usize) -> String {
    let cell = cell.replace('\n', " ");
    if cell.chars().count() > max {
        let cut: String = cell.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_empty_values_are_a_dash() {
        assert_eq!(text(""), "-");
        assert_eq!(opt(None::<i64>), "-");
        assert_eq!(opt(Some("")), "-");
        assert_eq!(opt(Some(42)), "42");
        assert_eq!(value(&Value::Null), "-");
        assert_eq!(value(&serde_json::json!("bare")), "bare");
        assert_eq!(value(&serde_json::json!({"a": [1]})), r#"{"a":[1]}"#);
    }

    #[test]
    fn long_cells_are_cut_to_one_line() {
        assert_eq!(short("a\nb".into(), 10), "a b");
        assert_eq!(short("abcdef".into(), 4), "abc…");
    }
}
