//! A YAML document read into a loose tree in which every value and every key keeps its line.
//!
//! Workflow files are checked field by field from this tree rather than deserialized straight into typed structs,
//! because serde stops at the first error: one misspelt field would hide every other problem in the file.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A value and the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub line: u64,
    pub value: Tree,
}

/// A scalar (as JSON, `null` for an empty value), a sequence or a mapping in source order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree {
    Scalar(Value),
    Seq(Vec<Node>),
    Map(Vec<Key>),
}

/// A mapping entry: the key, the key's line, and the value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub line: u64,
    pub value: Node,
}

impl Node {
    /// What kind of value this is, for messages: `a list`, `a mapping`, or the scalar itself.
    pub fn describe(&self) -> String {
        match &self.value {
            Tree::Scalar(Value::Null) => "nothing".to_owned(),
            Tree::Scalar(value) => format!("`{}`", scalar_text(value).unwrap_or_default()),
            Tree::Seq(_) => "a list".to_owned(),
            Tree::Map(_) => "a mapping".to_owned(),
        }
    }

    /// The scalar as text: strings as they are, numbers and booleans in their canonical spelling.
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Tree::Scalar(value) => scalar_text(value),
            _ => None,
        }
    }

    /// True for an empty value (`key:` with nothing after it, or `~`).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Tree::Scalar(Value::Null))
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Tree>::deserialize(deserializer)?;
        Ok(Node {
            line: spanned.referenced.line(),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.into()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Scalar(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Tree, E> {
        Ok(Tree::Scalar(Value::Null))
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        Tree::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push(Key {
                name: key.value,
                line: key.referenced.line(),
                value: map.next_value()?,
            });
        }
        Ok(Tree::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_and_key_keeps_its_line() {
        let yaml =
            "name: w\njobs:\n  - name: a\n    conf:\n      n: 200\n      f: 0.6\n      b: true\n";
        let root: Node = serde_saphyr::from_str(yaml).expect("valid YAML");
        let Tree::Map(top) = &root.value else {
            panic!("a mapping")
        };
        assert_eq!((top[1].name.as_str(), top[1].line), ("jobs", 2));
        let Tree::Seq(jobs) = &top[1].value.value else {
            panic!("a list")
        };
        assert_eq!(jobs[0].line, 3);
        let Tree::Map(job) = &jobs[0].value else {
            panic!("a mapping")
        };
        let Tree::Map(conf) = &job[1].value.value else {
            panic!("a mapping")
        };
        let texts: Vec<_> = conf
            .iter()
            .map(|k| (k.line, k.value.text().expect("scalar")))
            .collect();
        assert_eq!(
            texts,
            [
                (5, "200".to_owned()),
                (6, "0.6".to_owned()),
                (7, "true".to_owned())
            ]
        );
    }
}
