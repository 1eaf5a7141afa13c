//! The one rule for text medic keeps: no control characters. A line break in a stored reason, job name or Spark
//! value would write another line into whatever prints it later (a `spark-defaults.conf`, a log, a terminal); an
//! escape sequence would drive the terminal of whoever reads the audit; PostgreSQL refuses NUL outright. No Spark
//! setting, job name, token name or reason needs one, so they are refused where text is stored, with the field named.

use serde::Serialize;

/// Why `text`, the value of `field`, cannot be kept: the first control character it holds (U+0000–U+001F,
/// U+007F–U+009F, as [`char::is_control`] says), shown escaped. `None` when it has none.
pub fn control_character(field: &str, text: &str) -> Option<String> {
    text.chars().find(|c| c.is_control()).map(|c| {
        format!(
            "`{field}` contains a control character ({})",
            c.escape_unicode()
        )
    })
}

/// Every field of `value` (as JSON) whose text or key holds a control character, by path (`config.spark.x`,
/// `provenance.reason`, `recommended_changes.spark.y` for a key), each as [`control_character`] words it.
pub fn control_characters(value: &impl Serialize) -> Vec<String> {
    fn walk(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
        let at = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            serde_json::Value::String(text) => found.extend(control_character(path, text)),
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &at(&index.to_string()), found);
                }
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    let escaped: String = key.escape_debug().collect();
                    if key.chars().any(char::is_control) {
                        found.extend(control_character(&format!("{} (a key)", at(&escaped)), key));
                    }
                    walk(item, &at(&escaped), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(json) = serde_json::to_value(value) {
        walk(&json, "", &mut found);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_with_a_control_character_is_named_with_the_character() {
        let value = serde_json::json!({
            "job": {"id": "nightly\u{0}", "owner": "ok"},
            "reason": "first line\nsecond line",
            "config": {"spark.a\tb": "1", "spark.c": "\u{1b}[31mred"},
            "notes": ["fine", "bell\u{7}", "c1\u{85}"],
            "clean": "tab-free, é and 日本 are fine"
        });
        assert_eq!(
            control_characters(&value),
            [
                "`config.spark.a\\tb (a key)` contains a control character (\\u{9})",
                "`config.spark.c` contains a control character (\\u{1b})",
                "`job.id` contains a control character (\\u{0})",
                "`notes.1` contains a control character (\\u{7})",
                "`notes.2` contains a control character (\\u{85})",
                "`reason` contains a control character (\\u{a})",
            ]
        );
        assert!(control_characters(&serde_json::json!({"a": ["b", {"c": "d"}]})).is_empty());
    }
}
