//! A Spark configuration: Spark's flat map of keys to string values, read and written in the three forms users
//! have it in (JSON, `spark-defaults.conf`, `--conf k=v` lists).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Spark's configuration of one job: keys such as `spark.executor.memory` to string values such as `4g`.
///
/// Serialized as a JSON object of strings; JSON pointers address keys as `/spark.executor.memory`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct SparkConf(pub BTreeMap<String, String>);

/// A configuration text that cannot be read. Names the line (1-based) when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    /// Not a JSON object whose values are all strings.
    #[error("not a JSON object of string values: {0}")]
    Json(String),
    /// A `spark-defaults.conf` line without a value.
    #[error("line {line}: expected `key value` or `key=value`, found `{text}`")]
    DefaultsLine {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A setting that the output form cannot carry exactly.
    #[error("`{}` cannot be written in this form: {why}", key.escape_debug())]
    Unrepresentable {
        /// The key.
        key: String,
        /// Why.
        why: String,
    },
    /// A `--conf` argument without `=`.
    #[error("argument {index}: expected `key=value`, found `{text}`")]
    ConfArg {
        /// 1-based position in the list.
        index: usize,
        /// The argument.
        text: String,
    },
}

impl SparkConf {
    /// An empty configuration.
    pub fn new() -> Self {
        SparkConf::default()
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// Reads a JSON object of string values. Numbers and booleans are refused rather than converted: Spark
    /// reads every value as a string, and `"4"` versus `4.0` must not depend on a JSON library.
    pub fn from_json(text: &str) -> Result<Self, ConfError> {
        serde_json::from_str(text).map_err(|e| ConfError::Json(e.to_string()))
    }

    /// Reads `spark-defaults.conf` as Spark does (`java.util.Properties.load`, then each value trimmed): one
    /// `key value`, `key=value` or `key:value` per line; `#` or `!` starts a comment line; a line ending in a
    /// backslash goes on on the next; `\\`, `\n`, `\t`, `\uXXXX`, ... are escapes. Later lines override earlier
    /// ones. A line with a key and no separator at all, which Spark would read as an empty value, is refused: it is
    /// far likelier a file that is not a configuration.
    pub fn from_spark_defaults(text: &str) -> Result<Self, ConfError> {
        let mut conf = SparkConf::new();
        for (line, logical) in properties_lines(text) {
            let bad_line = || ConfError::DefaultsLine {
                line,
                text: logical.clone(),
            };
            let (key, value) = split_property(&logical).ok_or_else(bad_line)?;
            let (key, value) = (
                unescape(key).ok_or_else(bad_line)?,
                unescape(value).ok_or_else(bad_line)?,
            );
            // Spark trims every value it reads from the file (`Utils.getPropertiesFromFile`), as Java's trim does.
            conf.set(key, value.trim_matches(|c: char| c <= ' '));
        }
        Ok(conf)
    }

    /// Reads a list of `key=value` arguments, each optionally preceded by a `--conf` argument (as copied from a
    /// `spark-submit` line) or written `--conf=key=value`.
    pub fn from_conf_args<S: AsRef<str>>(args: &[S]) -> Result<Self, ConfError> {
        let mut conf = SparkConf::new();
        for (index, arg) in args.iter().map(AsRef::as_ref).enumerate() {
            if arg == "--conf" || arg == "-c" {
                continue;
            }
            let pair = arg.strip_prefix("--conf=").unwrap_or(arg);
            match pair.split_once('=') {
                Some((key, value)) if !key.is_empty() => {
                    conf.set(key, value);
                }
                _ => {
                    return Err(ConfError::ConfArg {
                        index: index + 1,
                        text: arg.to_owned(),
                    });
                }
            }
        }
        Ok(conf)
    }

    /// Reads whichever form `text` is in: a JSON object, `--conf` arguments (one `--conf key=value` per line, the
    /// value to the end of the line, or several on a line separated by white space), or `spark-defaults.conf`.
    pub fn parse_any(text: &str) -> Result<Self, ConfError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return SparkConf::from_json(text);
        }
        if trimmed.starts_with("--conf") {
            let mut args = Vec::new();
            for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
                let words: Vec<&str> = line.split_whitespace().collect();
                let flags = words
                    .iter()
                    .filter(|word| **word == "--conf" || word.starts_with("--conf="))
                    .count();
                match line.strip_prefix("--conf ") {
                    // One `--conf key=value` a line (as `to_conf_lines` writes): the value may hold spaces.
                    Some(pair) if flags == 1 => args.extend(["--conf", pair.trim_start()]),
                    _ => args.extend(words),
                }
            }
            return SparkConf::from_conf_args(&args);
        }
        SparkConf::from_spark_defaults(text)
    }

    /// The configuration as `spark-defaults.conf` text, keys in order, escaped so that Spark reads back exactly
    /// these keys and values (a line break in a value is written `\n`, never as a new line). Refuses a value Spark
    /// would change on reading: one that starts or ends with white space or a control character, which Spark trims.
    pub fn to_spark_defaults(&self) -> Result<String, ConfError> {
        let mut text = String::new();
        for (key, value) in &self.0 {
            if key.is_empty() {
                return Err(ConfError::Unrepresentable {
                    key: key.clone(),
                    why: "its key is empty".to_owned(),
                });
            }
            if value.starts_with(|c: char| c <= ' ') || value.ends_with(|c: char| c <= ' ') {
                return Err(ConfError::Unrepresentable {
                    key: key.clone(),
                    why: "its value starts or ends with white space or a control character, which Spark trims \
                          from spark-defaults.conf"
                        .to_owned(),
                });
            }
            let _ = writeln!(text, "{} {}", escape(key, true), escape(value, false));
        }
        Ok(text)
    }

    /// The configuration as `spark-submit` arguments: `--conf`, `key=value`, ... in key order. Each is one argument
    /// (no shell quoting: hand them to a process, not to a shell).
    pub fn to_conf_args(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(key, value)| ["--conf".to_owned(), format!("{key}={value}")])
            .collect()
    }

    /// The configuration as `--conf key=value` lines, one per setting, keys in order, as [`SparkConf::parse_any`]
    /// reads them back. Refuses what a line cannot carry unambiguously: an empty key, or one with `=`, white space
    /// or a control character; a value with a control character (a line break would start another line), white
    /// space at either end, or a `--conf` word of its own.
    pub fn to_conf_lines(&self) -> Result<String, ConfError> {
        let mut text = String::new();
        for (key, value) in &self.0 {
            let why = if key.is_empty() || key.contains(|c: char| c == '=' || c.is_whitespace()) {
                Some("its key is empty or holds `=` or white space")
            } else if key.chars().chain(value.chars()).any(char::is_control) {
                Some("it holds a control character (a line break would start another line)")
            } else if value.trim() != value {
                Some("its value starts or ends with white space")
            } else if value
                .split_whitespace()
                .any(|word| word == "--conf" || word.starts_with("--conf="))
            {
                Some("its value holds a `--conf` word, which would read as another argument")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(ConfError::Unrepresentable {
                    key: key.clone(),
                    why: why.to_owned(),
                });
            }
            let _ = writeln!(text, "--conf {key}={value}");
        }
        Ok(text)
    }

    /// The configuration as a JSON object.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }

    /// Reads a JSON value back into a configuration, or says which key is not a string.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, ConfError> {
        serde_json::from_value(value).map_err(|e| ConfError::Json(e.to_string()))
    }
}

/// The logical lines of a properties text, with the 1-based number of the line each starts on, as
/// `java.util.Properties.load` reads them: leading white space (space, tab, form feed) dropped, blank and comment
/// (`#`, `!`) lines skipped, and a line ending in an odd number of backslashes joined to the next (whose leading
/// white space is dropped too). Escapes are left for [`unescape`].
fn properties_lines(text: &str) -> Vec<(usize, String)> {
    let is_blank = |c: char| c == ' ' || c == '\t' || c == '\u{c}';
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    // Java ends a line at `\n`, `\r` or `\r\n`.
    let natural = text.split('\n').flat_map(|line| line.split('\r'));
    for (index, raw) in natural.enumerate() {
        let line = raw.trim_start_matches(is_blank);
        let (start, mut logical) = match pending.take() {
            Some(started) => started,
            None if line.is_empty() || line.starts_with(['#', '!']) => continue,
            None => (index + 1, String::new()),
        };
        let trailing_backslashes = line.chars().rev().take_while(|&c| c == '\\').count();
        if trailing_backslashes % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            pending = Some((start, logical));
        } else {
            logical.push_str(line);
            lines.push((start, logical));
        }
    }
    lines.extend(pending);
    lines
}

/// A logical line's key and value, still escaped, as `java.util.Properties.load` splits them: the key ends at the
/// first unescaped `=`, `:` or white space; white space, then at most one `=` or `:`, then white space again
/// separate it from the value. `None` when nothing ends the key.
fn split_property(line: &str) -> Option<(&str, &str)> {
    let is_blank = |c: char| c == ' ' || c == '\t' || c == '\u{c}';
    let mut escaped = false;
    let (end, separator) = line.char_indices().find(|&(_, c)| {
        let ends = !escaped && (c == '=' || c == ':' || is_blank(c));
        escaped = !escaped && c == '\\';
        ends
    })?;
    let key = &line[..end];
    let mut rest = line[end + separator.len_utf8()..].trim_start_matches(is_blank);
    if is_blank(separator) {
        rest = rest
            .strip_prefix(['=', ':'])
            .unwrap_or(rest)
            .trim_start_matches(is_blank);
    }
    Some((key, rest))
}

/// Java's `loadConvert`: `\t`, `\n`, `\r`, `\f` and `\uXXXX` become the character they name, a backslash
/// before anything else stands for that character. `None` for a malformed `\uXXXX`, which Java refuses too.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => {}
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                if hex.len() != 4 {
                    return None;
                }
                // A surrogate half (Java keeps it in a UTF-16 string) has no Rust `char`: refused.
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            Some(other) => out.push(other),
        }
    }
    Some(out)
}

/// `text` escaped for a properties file, as `java.util.Properties.store` does: a backslash doubled, `\t`, `\n`,
/// `\r`, `\f` and other control characters as escapes, and every character that would end a key, split a value
/// from it or start a comment (`=`, `:`, `#`, `!`, and a space in a key). UTF-8 is left as it is: Spark reads the
/// file as UTF-8.
fn escape(text: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            ' ' if is_key => out.push_str("\\ "),
            '=' | ':' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_read_the_same_configuration() {
        let json = SparkConf::from_json(
            r#"{"spark.executor.memory": "4g", "spark.sql.shuffle.partitions": "200"}"#,
        )
        .expect("json");
        let defaults = SparkConf::from_spark_defaults(
            "# comment\nspark.executor.memory   4g\n\nspark.sql.shuffle.partitions=200\n",
        )
        .expect("defaults");
        let args = SparkConf::from_conf_args(&[
            "--conf",
            "spark.executor.memory=4g",
            "--conf=spark.sql.shuffle.partitions=200",
        ])
        .expect("args");
        assert_eq!(json, defaults);
        assert_eq!(json, args);
        assert_eq!(
            SparkConf::parse_any(&json.to_spark_defaults().expect("representable")),
            Ok(json.clone())
        );
        assert_eq!(
            SparkConf::parse_any(&json.to_conf_lines().expect("representable")),
            Ok(json.clone())
        );
        assert_eq!(
            SparkConf::from_conf_args(&json.to_conf_args()),
            Ok(json.clone())
        );
        assert_eq!(
            SparkConf::parse_any(&json.to_conf_args().join(" ")),
            Ok(json.clone())
        );
        let mut spaced = json.clone();
        spaced.set("spark.driver.extraJavaOptions", "-XX:+UseG1GC -Da=b");
        assert_eq!(
            SparkConf::parse_any(&spaced.to_conf_lines().expect("representable")),
            Ok(spaced)
        );
        assert_eq!(SparkConf::from_json_value(json.to_json_value()), Ok(json));
    }

    #[test]
    fn values_keep_their_inner_spaces_and_equals_signs() {
        let conf =
            SparkConf::from_spark_defaults("spark.driver.extraJavaOptions -XX:+UseG1GC -Da=b\n")
                .expect("ok");
        assert_eq!(
            conf.get("spark.driver.extraJavaOptions"),
            Some("-XX:+UseG1GC -Da=b")
        );
        let conf =
            SparkConf::from_conf_args(&["spark.executor.extraJavaOptions=-Dx=y"]).expect("ok");
        assert_eq!(conf.get("spark.executor.extraJavaOptions"), Some("-Dx=y"));
    }

    #[test]
    fn spark_defaults_are_read_as_java_properties_then_trimmed() {
        let text = "! a comment\n  spark.a : 1\nspark.b=\\\n    2\\\n  3\r\nspark.c\\ d = x\\ty\\u00e9\\\\\nspark.e \t= \\#not a comment  \n";
        let conf = SparkConf::from_spark_defaults(text).expect("ok");
        let read: Vec<(&str, &str)> = conf
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            read,
            [
                ("spark.a", "1"),
                ("spark.b", "23"),
                ("spark.c d", "x\tyé\\"),
                ("spark.e", "#not a comment")
            ]
        );
        // U+0085 and U+2003 are not white space to Java: this line has a key and no separator.
        assert!(SparkConf::from_spark_defaults("spark.a\u{2003}2\n").is_err());
        assert!(SparkConf::from_spark_defaults("spark.a \\u12\n").is_err());
    }

    #[test]
    fn every_output_form_carries_a_hostile_value_exactly_or_refuses_it() {
        let mut conf = SparkConf::new();
        conf.set("spark.driver.extraJavaOptions", "-Da=1\nspark.evil 1");
        conf.set("spark.key with = and : and #", "back\\slash\u{1b}[2J and é");
        let defaults = conf.to_spark_defaults().expect("escaped");
        assert_eq!(defaults.lines().count(), 2, "{defaults}");
        assert_eq!(SparkConf::from_spark_defaults(&defaults), Ok(conf.clone()));
        assert!(matches!(
            conf.to_conf_lines(),
            Err(ConfError::Unrepresentable { key, .. }) if key == "spark.driver.extraJavaOptions"
        ));
        // Process arguments carry anything but a key with `=` (Spark splits `--conf` at the first one too).
        conf.0.retain(|key, _| !key.contains('='));
        assert_eq!(
            SparkConf::from_conf_args(&conf.to_conf_args()),
            Ok(conf.clone())
        );
        let mut trimmed = SparkConf::new();
        trimmed.set("spark.a", "4g ");
        assert!(trimmed.to_spark_defaults().is_err());
        let mut key_with_equals = SparkConf::new();
        key_with_equals.set("spark.a=b", "1");
        assert!(key_with_equals.to_conf_lines().is_err());
    }

    #[test]
    fn bad_input_names_the_line_or_argument() {
        assert_eq!(
            SparkConf::from_spark_defaults("spark.a 1\nspark.b\n"),
            Err(ConfError::DefaultsLine {
                line: 2,
                text: "spark.b".to_owned()
            })
        );
        assert_eq!(
            SparkConf::from_conf_args(&["--conf", "spark.a"]),
            Err(ConfError::ConfArg {
                index: 2,
                text: "spark.a".to_owned()
            })
        );
        assert!(SparkConf::from_json(r#"{"spark.executor.cores": 4}"#).is_err());
        assert!(SparkConf::from_json("[1, 2]").is_err());
    }
}
