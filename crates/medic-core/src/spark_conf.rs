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

    /// Reads `spark-defaults.conf`: one `key value` (white space) or `key=value` per line; `#` starts a comment
    /// line; blank lines are ignored. Later lines override earlier ones, as in Spark.
    pub fn from_spark_defaults(text: &str) -> Result<Self, ConfError> {
        let mut conf = SparkConf::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = line.find(|c: char| c == '=' || c.is_whitespace());
            let Some(at) = split else {
                return Err(ConfError::DefaultsLine {
                    line: index + 1,
                    text: raw.to_owned(),
                });
            };
            let (key, rest) = line.split_at(at);
            // The separator may be a white space of several bytes (U+0085, U+2003, ...): skip it as a character.
            let separator = rest.chars().next().map_or(0, char::len_utf8);
            let value = rest[separator..]
                .trim_start_matches(|c: char| c == '=' || c.is_whitespace())
                .trim_end();
            conf.set(key, value);
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

    /// Reads whichever form `text` is in: a JSON object, `--conf` arguments (one per line or separated by white
    /// space), or `spark-defaults.conf`.
    pub fn parse_any(text: &str) -> Result<Self, ConfError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return SparkConf::from_json(text);
        }
        if trimmed.starts_with("--conf") {
            let args: Vec<&str> = text.split_whitespace().collect();
            return SparkConf::from_conf_args(&args);
        }
        SparkConf::from_spark_defaults(text)
    }

    /// The configuration as `spark-defaults.conf` text, keys in order.
    pub fn to_spark_defaults(&self) -> String {
        let mut text = String::new();
        for (key, value) in &self.0 {
            let _ = writeln!(text, "{key} {value}");
        }
        text
    }

    /// The configuration as `spark-submit` arguments: `--conf`, `key=value`, ... in key order.
    pub fn to_conf_args(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(key, value)| ["--conf".to_owned(), format!("{key}={value}")])
            .collect()
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
            SparkConf::parse_any(&json.to_spark_defaults()),
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
    fn a_separator_of_several_bytes_is_read_as_white_space() {
        // Found by crates/medic/tests/faults.rs: U+0085 (NEL) and U+2003 (em space) are white space in Rust, two and
        // three bytes long.
        let conf =
            SparkConf::from_spark_defaults("spark.a\u{85}1\nspark.b\u{2003}2\n").expect("ok");
        assert_eq!(
            (conf.get("spark.a"), conf.get("spark.b")),
            (Some("1"), Some("2"))
        );
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
